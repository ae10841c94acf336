// Polygon outlines of binary masks, for COCO `segmentation` polygons.
//
// How the polygons relate to the mask: every polygon vertex is an integer pixel corner and
// every edge runs along pixel sides, so the polygons are the exact outline of the mask in COCO
// coordinates (pixel (x, y) covers [x, x+1] x [y, y+1]). pycocotools rasterises a polygon
// (rleFrPoly) by taking the pixels whose centre, shifted by at most 0.1 px by its 5x
// upsampling, lies inside under the even-odd rule; pixel centres are 0.5 px away from any such
// outline, so rasterising the polygons gives back exactly the mask and the polygon area equals
// the mask area. The evaluators may therefore rasterise either the polygons or the mask.
//
// Layout: one polygon per 4-connected component of the mask (pycocotools merges the polygons
// of an annotation by union). Holes of a component (background enclosed by it, 8-connected)
// are spliced into the component's polygon through a zero-width bridge: the outline walks from
// an outer vertex to the nearest hole vertex, around the hole in the opposite orientation and
// back along the same segment. Both passes over the bridge rasterise to the same crossings, so
// they cancel under the even-odd rule and the bridge covers no pixel. Bag handles and sandal
// straps therefore keep their holes.
#ifndef EVAL_SCENES_POLYGON_H_
#define EVAL_SCENES_POLYGON_H_

#include <vector>

#include "eval/scenes/mask.h"

namespace mochi::eval::scenes {

// TraceMaskPolygons returns the outline polygons of `mask` as COCO flat coordinate lists
// [x0, y0, x1, y1, ...] (closed implicitly, only corner vertices, at least 4 vertices each),
// components in raster order of their first pixel. Empty for an empty mask.
//
// Example (height 2, width 3, pixels (x, y) = (0, 0), (1, 0), (1, 1) set):
//   TraceMaskPolygons(mask) == {{0, 0, 2, 0, 2, 2, 1, 2, 1, 1, 0, 1}}
std::vector<std::vector<int>> TraceMaskPolygons(const Mask& mask);

}  // namespace mochi::eval::scenes

#endif  // EVAL_SCENES_POLYGON_H_

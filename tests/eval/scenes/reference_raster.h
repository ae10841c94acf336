// Test-only reference rasteriser for COCO polygons with integer vertices.
#ifndef TESTS_EVAL_SCENES_REFERENCE_RASTER_H_
#define TESTS_EVAL_SCENES_REFERENCE_RASTER_H_

#include <vector>

#include "eval/scenes/mask.h"

namespace mochi::eval::scenes::testing {

// Rasterises COCO polygons the way pycocotools does for integer vertices: a pixel is set when
// its centre (x + 0.5, y + 0.5) is inside a polygon under the even-odd rule (crossings are
// counted, so an edge traversed twice cancels), and the polygons of one annotation are merged
// by union (coco.py annToRLE). Written independently of pycocotools; polygon_test checks it
// against rleFrPoly's golden outputs.
inline Mask RasterisePolygons(const std::vector<std::vector<int>>& polygons, int height,
                              int width) {
  Mask mask(height, width);
  for (const std::vector<int>& polygon : polygons) {
    const size_t n = polygon.size() / 2;
    for (int y = 0; y < height; ++y) {
      const double cy = y + 0.5;
      std::vector<double> crossings;
      for (size_t i = 0; i < n; ++i) {
        const double x0 = polygon[2 * i], y0 = polygon[2 * i + 1];
        const double x1 = polygon[2 * ((i + 1) % n)], y1 = polygon[2 * ((i + 1) % n) + 1];
        if ((y0 <= cy) != (y1 <= cy)) crossings.push_back(x0 + (cy - y0) * (x1 - x0) / (y1 - y0));
      }
      if (crossings.empty()) continue;
      for (int x = 0; x < width; ++x) {
        int left = 0;
        for (double c : crossings) left += c < x + 0.5;
        if (left % 2 == 1) mask.set(x, y);
      }
    }
  }
  return mask;
}

}  // namespace mochi::eval::scenes::testing

#endif  // TESTS_EVAL_SCENES_REFERENCE_RASTER_H_

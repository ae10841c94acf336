#!/usr/bin/env python3
"""//eval/coco against the official pycocotools COCOeval on seeded random cases.

Each case is a small COCO dataset and its results, drawn to reach the corners of COCOeval:
polygon, uncompressed-RLE and compressed-RLE ground truths; crowds; a ground-truth `area` unlike
the mask (and exactly on the area-range bounds 32^2 and 96^2); objects of every area range;
tied scores; images without ground truth or without detections; categories without ground truth;
more than 100 detections for one image and category. Every case is evaluated three ways, by
pycocotools and by //eval/coco (one process for all cases, tests/eval/coco:coco_eval_cases):
  * bbox;
  * segm, detectron2's results layout (no `bbox` in segm results: area = mask area);
  * segm, results that keep their `bbox` (pycocotools' loadRes then takes every result's area
    from the box, and a result without a segmentation becomes its box's polygon).
All 12 summary numbers of each must agree within 1e-9.

  usage: pycocotools_reference_test.py COCO_EVAL_CASES_BINARY [NUM_CASES]
"""
import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

SEED = 20261207
DEFAULT_CASES = 1000
TOLERANCE = 1e-9
EVALUATIONS = [("bbox", "bbox"), ("segm", "segm_detectron2"), ("segm", "segm_with_bbox")]


def uncompressed_rle(mask):
    """COCO's uncompressed RLE of a binary mask: run lengths in column-major order, zeros first."""
    flat = mask.flatten(order="F")
    counts, value, run = [], 0, 0
    for pixel in flat:
        if pixel == value:
            run += 1
        else:
            counts.append(run)
            value, run = pixel, 1
    counts.append(run)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


def compressed_rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode(segmentation, height, width):
    if isinstance(segmentation, list):
        rles = mask_utils.frPyObjects(segmentation, height, width)
        return mask_utils.decode(mask_utils.merge(rles))
    if isinstance(segmentation["counts"], list):
        return mask_utils.decode(mask_utils.frPyObjects(segmentation, height, width))
    return mask_utils.decode({"size": segmentation["size"],
                              "counts": segmentation["counts"].encode("ascii")})


def object_side(rng, height, width):
    """A side length that puts objects in every area range, some right at the bounds."""
    choice = rng.integers(0, 5)
    limit = min(height, width)
    if choice == 0:
        side = rng.uniform(1.5, 20)       # small
    elif choice == 1:
        side = rng.uniform(28, 37)        # around 32^2
    elif choice == 2:
        side = rng.uniform(37, 90)        # medium
    elif choice == 3:
        side = rng.uniform(90, 102)       # around 96^2
    else:
        side = rng.uniform(102, 190)      # large
    return max(1.5, min(side, limit - 1))


def random_object(rng, height, width):
    """(segmentation as a ground truth would store it, binary mask)."""
    side_x = object_side(rng, height, width)
    side_y = np.clip(side_x * rng.uniform(0.6, 1.6), 1.5, height - 1)
    x0 = rng.uniform(0, width - side_x)
    y0 = rng.uniform(0, height - side_y)
    kind = rng.choice(["polygon", "polygons", "ellipse_rle", "rect_rle"])
    if kind in ("polygon", "polygons"):
        polygons = []
        for part in range(1 if kind == "polygon" else 2):
            scale = 1.0 if part == 0 else rng.uniform(0.2, 0.5)
            cx, cy = x0 + side_x / 2, y0 + side_y / 2
            n = rng.integers(3, 9)
            angles = np.sort(rng.uniform(0, 2 * np.pi, n))
            radius = rng.uniform(0.5, 1.0, n) * scale
            xs = np.clip(cx + np.cos(angles) * radius * side_x / 2, 0, width)
            ys = np.clip(cy + np.sin(angles) * radius * side_y / 2, 0, height)
            if part == 1:  # a second part beside the first
                xs = np.clip(xs + rng.uniform(-side_x, side_x) / 2, 0, width)
                ys = np.clip(ys + rng.uniform(-side_y, side_y) / 2, 0, height)
            polygons.append([round(float(v), 2) for xy in zip(xs, ys) for v in xy])
        return polygons, decode(polygons, height, width)
    mask = np.zeros((height, width), dtype=np.uint8)
    if kind == "rect_rle":
        # Integer rectangles, some with areas exactly 32^2 or 96^2.
        side = int(rng.choice([32, 96, round(side_x)]))
        w = min(side, width)
        h = min(side if side in (32, 96) else int(round(side_y)), height)
        x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
        mask[y:y + h, x:x + w] = 1
    else:
        yy, xx = np.mgrid[0:height, 0:width]
        cx, cy = x0 + side_x / 2, y0 + side_y / 2
        mask[((xx + 0.5 - cx) / (side_x / 2)) ** 2 + ((yy + 0.5 - cy) / (side_y / 2)) ** 2 <= 1] = 1
    rle = uncompressed_rle(mask) if rng.random() < 0.5 else compressed_rle(mask)
    return rle, mask


def shifted(rng, mask):
    """A detection's mask near a ground truth: shifted by a few pixels, sometimes grown."""
    dy, dx = rng.integers(-3, 4, size=2)
    out = np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    if rng.random() < 0.3:
        out = out | np.roll(out, 1, axis=0) | np.roll(out, 1, axis=1)
    return out.astype(np.uint8)


def tight_box(mask):
    return [float(v) for v in mask_utils.toBbox(mask_utils.encode(np.asfortranarray(mask)))]


def make_case(rng):
    """(ground-truth dataset, detections as (image_id, category_id, box, mask, score))."""
    image_ids = sorted(int(i) for i in rng.choice(np.arange(1, 500), rng.integers(1, 5), replace=False))
    category_ids = sorted(int(c) for c in rng.choice(np.arange(1, 40), rng.integers(1, 5), replace=False))
    tied_scores = rng.random() < 0.5
    images, annotations, detections = [], [], []
    for image_id in image_ids:
        big = rng.random() < 0.6
        height = int(rng.integers(110, 200) if big else rng.integers(24, 110))
        width = int(rng.integers(110, 200) if big else rng.integers(24, 110))
        images.append({"id": image_id, "height": height, "width": width,
                       "file_name": f"{image_id}.png"})
        if rng.random() < 0.15:
            continue  # an image with neither ground truth nor detections
        masks_here = []
        for category_id in category_ids:
            if rng.random() < 0.25:
                continue  # no ground truth of this category here (some categories get none)
            for _ in range(int(rng.choice([0, 1, 1, 2, 3, 5]))):
                segmentation, mask = random_object(rng, height, width)
                area = float(mask.sum())
                area_kind = rng.random()
                if area_kind < 0.15:
                    area *= rng.uniform(0.3, 3.0)           # `area` unlike the mask
                elif area_kind < 0.25:
                    area = float(rng.choice([1024.0, 9216.0]))  # on an area-range bound
                box = tight_box(mask)
                if rng.random() < 0.2:
                    box = [box[0] + rng.uniform(-2, 2), box[1] + rng.uniform(-2, 2),
                           max(0.5, box[2] + rng.uniform(-2, 2)), max(0.5, box[3] + rng.uniform(-2, 2))]
                crowd = rng.random() < 0.12
                if crowd and rng.random() < 0.7:
                    segmentation = uncompressed_rle(mask)  # COCO's crowds are uncompressed RLE
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": category_id, "bbox": box, "area": area,
                                    "iscrowd": int(crowd), "segmentation": segmentation})
                masks_here.append((category_id, mask))
        for category_id in category_ids:
            count = int(rng.choice([0, 1, 2, 4, 8]))
            if rng.random() < 0.03:
                count = int(rng.integers(101, 131))  # more than maxDets = 100
            for _ in range(count):
                same = [m for c, m in masks_here if c == category_id]
                if same and rng.random() < 0.7:
                    mask = shifted(rng, same[rng.integers(0, len(same))])
                elif masks_here and rng.random() < 0.3:
                    mask = shifted(rng, masks_here[rng.integers(0, len(masks_here))][1])
                else:
                    mask = random_object(rng, height, width)[1]
                box = tight_box(mask)
                box_kind = rng.random()
                if box_kind < 0.3:
                    box = [box[0] + rng.uniform(-1.5, 1.5), box[1] + rng.uniform(-1.5, 1.5),
                           max(0.5, box[2] + rng.uniform(-2, 2)), max(0.5, box[3] + rng.uniform(-2, 2))]
                elif box_kind < 0.4:
                    side = float(rng.choice([32.0, 96.0]))  # box area on a bound
                    box = [box[0], box[1], side, side]
                score = (float(rng.choice([0.25, 0.5, 0.75, 1.0])) if tied_scores
                         else round(float(rng.random()), 6))
                detections.append((image_id, category_id, box, mask, score))
    if not detections:  # pycocotools' loadRes cannot take an empty list
        image = images[0]
        mask = random_object(rng, image["height"], image["width"])[1]
        detections.append((image["id"], category_ids[0], tight_box(mask), mask, 0.5))
    dataset = {"images": images, "annotations": annotations,
               "categories": [{"id": c, "name": f"category {c}"} for c in category_ids]}
    return dataset, detections


def coverage(dataset, detections):
    """How many of each corner this case reaches (the test fails if one is never reached)."""
    annotations = dataset["annotations"]
    seg = [a["segmentation"] for a in annotations]
    per_image_category = {}
    for image_id, category_id, box, _, _ in detections:
        per_image_category[image_id, category_id] = per_image_category.get((image_id, category_id), 0) + 1
    gt_images = {a["image_id"] for a in annotations}
    gt_categories = {a["category_id"] for a in annotations}
    scores = [d[4] for d in detections]
    return {
        "polygon ground truths": sum(isinstance(x, list) for x in seg),
        "uncompressed-RLE ground truths": sum(isinstance(x, dict) and isinstance(x["counts"], list) for x in seg),
        "compressed-RLE ground truths": sum(isinstance(x, dict) and isinstance(x["counts"], str) for x in seg),
        "crowds": sum(a["iscrowd"] for a in annotations),
        "ground-truth area on 32^2 or 96^2": sum(a["area"] in (1024.0, 9216.0) for a in annotations),
        "small ground truths": sum(a["area"] < 1024 for a in annotations),
        "medium ground truths": sum(1024 < a["area"] < 9216 for a in annotations),
        "large ground truths": sum(a["area"] > 9216 for a in annotations),
        "detection boxes of area 32^2 or 96^2": sum(d[2][2] * d[2][3] in (1024.0, 9216.0) for d in detections),
        "images without ground truth": sum(i["id"] not in gt_images for i in dataset["images"]),
        "categories without ground truth": sum(c["id"] not in gt_categories for c in dataset["categories"]),
        "image-categories with > 100 detections": sum(n > 100 for n in per_image_category.values()),
        "detections with a tied score": len(scores) - len(set(scores)),
    }


def results(detections, layout, rng):
    out = []
    for image_id, category_id, box, mask, score in detections:
        result = {"image_id": image_id, "category_id": category_id, "score": score}
        if layout == "bbox":
            result["bbox"] = box
        elif layout == "segm_detectron2":
            result["segmentation"] = compressed_rle(mask)
        else:  # segm_with_bbox: some results have only the box
            result["bbox"] = box
            if rng.random() < 0.9:
                result["segmentation"] = compressed_rle(mask)
        out.append(result)
    return out


def pycocotools_stats(gt_path, dt_path, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dt_path)
        evaluation = COCOeval(gt, dt, iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return [float(v) for v in evaluation.stats]


def main():
    binary = sys.argv[1]
    num_cases = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_CASES
    work = os.environ.get("TEST_TMPDIR") or os.path.abspath("pycocotools_reference_cases")
    os.makedirs(work, exist_ok=True)
    cases = []  # (case, layout, iou_type, gt_path, dt_path)
    reached = {}
    for case in range(num_cases):
        rng = np.random.default_rng([SEED, case])
        dataset, detections = make_case(rng)
        for corner, count in coverage(dataset, detections).items():
            reached[corner] = reached.get(corner, 0) + count
        gt_path = os.path.join(work, f"case{case}_gt.json")
        with open(gt_path, "w") as f:
            json.dump(dataset, f)
        for iou_type, layout in EVALUATIONS:
            dt_path = os.path.join(work, f"case{case}_{layout}.json")
            with open(dt_path, "w") as f:
                json.dump(results(detections, layout, rng), f)
            cases.append((case, layout, iou_type, gt_path, dt_path))

    manifest = os.path.join(work, "manifest.txt")
    with open(manifest, "w") as f:
        f.writelines(f"{iou} {gt} {dt}\n" for _, _, iou, gt, dt in cases)
    ours_path = os.path.join(work, "ours.jsonl")
    subprocess.run([binary, f"--manifest={manifest}", f"--output={ours_path}"], check=True)
    with open(ours_path) as f:
        ours = [json.loads(line) for line in f]
    assert len(ours) == len(cases), f"{len(ours)} results for {len(cases)} cases"

    names = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
    failures, compared, defined = [], 0, 0
    segm_by_layout = {}
    for (case, layout, iou_type, gt_path, dt_path), mine in zip(cases, ours):
        reference = pycocotools_stats(gt_path, dt_path, iou_type)
        segm_by_layout.setdefault(case, {})[layout] = reference
        if "error" in mine:
            failures.append(f"case {case} {layout}: ours failed: {mine['error']}")
            continue
        for name, a, b in zip(names, mine["stats"], reference):
            compared += 1
            defined += b != -1
            if not abs(a - b) <= TOLERANCE:
                failures.append(f"case {case} {layout} {name}: ours {a!r}, pycocotools {b!r} "
                                f"({gt_path}, {dt_path})")
    print(f"{num_cases} cases x {len(EVALUATIONS)} evaluations: {compared} numbers compared with "
          f"pycocotools ({defined} defined, the rest -1 in both), {len(failures)} differ by more "
          f"than {TOLERANCE}")
    for line in failures[:20]:
        print("  " + line)
    # The two segm layouts must matter, or the second one tests nothing.
    reached["cases where the segm layouts give different numbers"] = sum(
        r["segm_detectron2"] != r["segm_with_bbox"] for r in segm_by_layout.values())
    print("corners reached (summed over cases):")
    for corner, count in reached.items():
        print(f"  {corner}: {count}")
    unreached = [corner for corner, count in reached.items() if count == 0]
    if unreached:
        print(f"never reached: {unreached}")
    sys.exit(1 if failures or unreached or compared < 12 * len(EVALUATIONS) * num_cases else 0)


if __name__ == "__main__":
    main()

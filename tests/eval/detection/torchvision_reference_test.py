#!/usr/bin/env python3
"""//eval/detection's RoIAlign, NMS, batched NMS and pairwise IoU against torchvision.ops.

Seeded random inputs, degenerate boxes included (zero width or height, identical boxes, boxes
outside the feature map, nested and touching boxes), go through torchvision and through our ops
(tests/eval/detection:detection_ops_cases, one process for all cases):
  * roi_align (aligned and not, adaptive and fixed sampling, several scales), forward and the
    gradient with respect to the features: within 1e-10 (float64);
  * nms and batched_nms: the same kept indices in the same order (distinct scores; float32 and
    float64 boxes);
  * box_iou: within 1e-12 (float64). Where torchvision divides 0 by 0 (two empty boxes) it gives
    NaN; ours gives 0, as detectron2's pairwise_iou, and the test checks exactly that.

  usage: torchvision_reference_test.py DETECTION_OPS_CASES_BINARY
"""
import os
import subprocess
import sys

import torch
import torchvision
from torchvision.ops import batched_nms, box_iou, nms, roi_align

SEED = 20261207
CASES = {"roi_align": 300, "nms": 300, "batched_nms": 300, "box_iou": 200}


def random_boxes(g, n, extent, dtype):
    """XYXY boxes: mostly ordinary, some empty (zero width or height), some duplicated, nested or
    touching, some partly or wholly outside [0, extent]."""
    x1 = torch.rand(n, generator=g, dtype=torch.float64) * extent * 1.2 - 0.1 * extent
    y1 = torch.rand(n, generator=g, dtype=torch.float64) * extent * 1.2 - 0.1 * extent
    w = torch.rand(n, generator=g, dtype=torch.float64) * extent * 0.5
    h = torch.rand(n, generator=g, dtype=torch.float64) * extent * 0.5
    kind = torch.randint(0, 10, (n,), generator=g)
    w = torch.where(kind == 0, torch.zeros_like(w), w)    # zero width
    h = torch.where(kind == 1, torch.zeros_like(h), h)    # zero height
    boxes = torch.stack([x1, y1, x1 + w, y1 + h], dim=1)
    if n > 1:
        for i in range(n):
            other = int(torch.randint(0, n, (1,), generator=g))
            if kind[i] == 2:      # a duplicate
                boxes[i] = boxes[other]
            elif kind[i] == 3:    # nested inside another
                boxes[i] = boxes[other] * 0.75 + boxes[other][[0, 1, 0, 1]] * 0.25
            elif kind[i] == 4:    # touching another on its right edge
                width = boxes[i, 2] - boxes[i, 0]
                boxes[i, 0] = boxes[other, 2]
                boxes[i, 2] = boxes[i, 0] + width
            elif kind[i] == 5:    # integer corners (exact IoUs like 1/2 or 1/3)
                boxes[i] = torch.round(boxes[i] / 4) * 4
    return boxes.to(dtype)


def distinct_scores(g, n, dtype):
    return ((torch.randperm(n, generator=g).to(torch.float64) + torch.rand(n, generator=g, dtype=torch.float64) * 0.5)
            / max(n, 1)).to(dtype)


def make_inputs():
    g = torch.Generator().manual_seed(SEED)
    inputs, counts = {}, {"empty boxes": 0, "roi boxes outside the map": 0}
    for c in range(CASES["roi_align"]):
        key = f"roi_align/{c:04d}/"
        n, ch = int(torch.randint(1, 4, (1,), generator=g)), int(torch.randint(1, 5, (1,), generator=g))
        height, width = (int(v) for v in torch.randint(3, 21, (2,), generator=g))
        scale = [1.0, 0.5, 0.25, 1.0 / 16][int(torch.randint(0, 4, (1,), generator=g))]
        features = torch.randn(n, ch, height, width, generator=g, dtype=torch.float64)
        r = int(torch.randint(1, 13, (1,), generator=g))
        boxes = random_boxes(g, r, max(height, width) / scale, torch.float64)
        batch = torch.randint(0, n, (r, 1), generator=g).to(torch.float64)
        rois = torch.cat([batch, boxes], dim=1)
        out_h, out_w = (int(v) for v in torch.randint(1, 8, (2,), generator=g))
        sampling = int(torch.randint(0, 4, (1,), generator=g))
        aligned = bool(torch.randint(0, 2, (1,), generator=g))
        inputs[key + "features"] = features
        inputs[key + "rois"] = rois
        inputs[key + "options"] = torch.tensor([out_h, out_w, scale, sampling, float(aligned)],
                                               dtype=torch.float64)
        inputs[key + "grad_output"] = torch.randn(r, ch, out_h, out_w, generator=g, dtype=torch.float64)
        counts["empty boxes"] += int(((boxes[:, 2] == boxes[:, 0]) | (boxes[:, 3] == boxes[:, 1])).sum())
        counts["roi boxes outside the map"] += int(
            ((boxes[:, 0] * scale > width) | (boxes[:, 1] * scale > height)
             | (boxes[:, 2] < 0) | (boxes[:, 3] < 0)).sum())
    for op in ("nms", "batched_nms"):
        for c in range(CASES[op]):
            key = f"{op}/{c:04d}/"
            n = int(torch.randint(0, 61, (1,), generator=g))
            dtype = torch.float32 if (c % 2 == 0 and op == "nms") else torch.float64
            inputs[key + "boxes"] = random_boxes(g, n, 100.0, dtype)
            inputs[key + "scores"] = distinct_scores(g, n, dtype)
            inputs[key + "threshold"] = torch.tensor(
                [0.0, 0.3, 0.5, 0.7, 1.0][int(torch.randint(0, 5, (1,), generator=g))], dtype=torch.float64)
            if op == "batched_nms":
                inputs[key + "categories"] = torch.randint(0, 4, (n,), generator=g)
    for c in range(CASES["box_iou"]):
        key = f"box_iou/{c:04d}/"
        n, m = (int(v) for v in torch.randint(0, 25, (2,), generator=g))
        inputs[key + "boxes1"] = random_boxes(g, n, 50.0, torch.float64)
        inputs[key + "boxes2"] = torch.cat([random_boxes(g, m, 50.0, torch.float64),
                                            inputs[key + "boxes1"][: n // 3]])  # shared boxes
    return inputs, counts


def main():
    binary = sys.argv[1]
    work = os.environ.get("TEST_TMPDIR") or os.path.abspath(".")
    inputs, counts = make_inputs()
    in_path, out_path = os.path.join(work, "detection_ops_in.pt"), os.path.join(work, "detection_ops_out.pt")
    torch.save(inputs, in_path)
    subprocess.run([binary, in_path, out_path], check=True)
    ours = torch.load(out_path, weights_only=False)  # our runner's file (pickle_save adds type tags)

    failures = []
    compared = {op: 0 for op in CASES}
    nan_pairs = 0

    def check(condition, message):
        if not condition:
            failures.append(message)

    for c in range(CASES["roi_align"]):
        key = f"roi_align/{c:04d}/"
        out_h, out_w, scale, sampling, aligned = inputs[key + "options"].tolist()
        features = inputs[key + "features"].clone().requires_grad_(True)
        output = roi_align(features, inputs[key + "rois"], (int(out_h), int(out_w)), scale,
                           int(sampling), bool(aligned))
        (grad,) = torch.autograd.grad(output, features, inputs[key + "grad_output"])
        check(torch.allclose(ours[key + "output"], output.detach(), rtol=0, atol=1e-10),
              f"{key}output: max |diff| {(ours[key + 'output'] - output).abs().max():.3g}")
        check(torch.allclose(ours[key + "grad_features"], grad, rtol=0, atol=1e-10),
              f"{key}grad_features: max |diff| {(ours[key + 'grad_features'] - grad).abs().max():.3g}")
        compared["roi_align"] += 1
    for op in ("nms", "batched_nms"):
        for c in range(CASES[op]):
            key = f"{op}/{c:04d}/"
            boxes, scores = inputs[key + "boxes"], inputs[key + "scores"]
            threshold = float(inputs[key + "threshold"])
            if op == "nms":
                want = nms(boxes, scores, threshold)
            else:
                want = batched_nms(boxes, scores, inputs[key + "categories"], threshold)
            got = ours[key + "keep"]
            check(torch.equal(got, want), f"{key}keep: ours {got.tolist()}, torchvision {want.tolist()}")
            compared[op] += 1
    for c in range(CASES["box_iou"]):
        key = f"box_iou/{c:04d}/"
        want, got = box_iou(inputs[key + "boxes1"], inputs[key + "boxes2"]), ours[key + "iou"]
        undefined = torch.isnan(want)
        nan_pairs += int(undefined.sum())
        check(torch.equal(got[undefined], torch.zeros_like(got[undefined])),
              f"{key}iou: not 0 where torchvision divides 0 by 0")
        check(torch.allclose(got[~undefined], want[~undefined], rtol=0, atol=1e-12),
              f"{key}iou: max |diff| {(got[~undefined] - want[~undefined]).abs().max() if (~undefined).any() else 0:.3g}")
        compared["box_iou"] += 1

    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}: cases compared "
          + ", ".join(f"{op} {n}" for op, n in compared.items())
          + f"; {counts['empty boxes']} empty and {counts['roi boxes outside the map']} outside RoIs, "
          f"{nan_pairs} IoU pairs of two empty boxes; {len(failures)} failures")
    for line in failures[:20]:
        print("  " + line)
    sys.exit(1 if failures or nan_pairs == 0 else 0)


if __name__ == "__main__":
    main()

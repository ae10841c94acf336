"""The paper's tables and figures as data (see ../shared/notes/tables.md).

Each table lists rows (a pretraining per profile: config file, overrides, seeds), columns (which
result file and key) and published values. No published number of the MoCHi paper could be
verified (../shared/notes/paper.md: every table cell is MISSING), so `published` is empty and the
reports print `unknown`. Never put a number here without a source.

Profiles:
  default: Fashion-MNIST on one 2-core CPU machine; each table must regenerate in about 2 hours,
           so runs use DEFAULT_BUDGET (a 20k-image cut, 6 epochs, K = 4096) and 2 seeds.
  ci:      the regression cut (configs/pretrain/mocov2_fmnist_ci.pbtxt), MoCo-v2 and one MoCHi
           row, one seed.
  paper:   ResNet-50 on ImageNet-100 with the paper's recipe (GPUs; ImageNet under $MOCHI_IMAGENET).
"""

DEFAULT_CONFIG = "//configs:pretrain/mocov2_fmnist.pbtxt"
CI_CONFIG = "//configs:pretrain/mocov2_fmnist_ci.pbtxt"
PAPER_CONFIG = "//configs:pretrain/mocov2_r50_in100_200ep.pbtxt"

# About 13 minutes per run on 2 cores (20,000 images x 6 epochs at ~260 img/s, plus kNN).
DEFAULT_BUDGET = "dataset { fashion_mnist { limit: 20000 } } epochs: 6 checkpoint_every_epochs: 1 "
DEFAULT_SEEDS = [0, 1]

# One seed keeps CI short; the regression tolerances come from seeds 0 and 1 measured by hand
# (pipelines/regression_expected.json records the values and the command).
CI_SEEDS = [0]

def mixing(n, s, s_prime, extra = ""):
    """Override text for MoCHi (N, s, s')."""
    return "moco { mixing { num_hardest: %d num_mixed_pairs: %d num_query_mixed: %d %s} } " % (
        n,
        s,
        s_prime,
        extra,
    )

def _row(row_id, label, default = "", ci = None, paper = None, baseline = False, ci_label = None):
    """A row: `default` are overrides of DEFAULT_CONFIG; ci/paper likewise (None = not run).

    `ci_label` names the row in ci reports when the ci cut scales its (N, s, s') down.
    """
    row = {
        "id": row_id,
        "label": label,
        "baseline": baseline,
        "default": {"config": DEFAULT_CONFIG, "overrides": DEFAULT_BUDGET + default, "seeds": DEFAULT_SEEDS},
    }
    if ci != None:
        row["ci"] = {"config": CI_CONFIG, "overrides": ci, "seeds": CI_SEEDS, "label": ci_label or label}
    if paper != None:
        row["paper"] = {"config": PAPER_CONFIG, "overrides": paper, "seeds": [0]}
    return row

# The default profile scales K from 65536 to 4096 (x 1/16); N, s, s' are scaled so that the
# ratios N/K and s/N stay in the paper's range while s + s' stays well below K.
MOCOV2 = _row("mocov2", "MoCo-v2", ci = "", paper = "", baseline = True)
MOCHI_256_512_0 = _row(
    "mochi_256_512_0",
    "MoCHi (256, 512, 0)",
    default = mixing(256, 512, 0),
    ci = mixing(128, 256, 0),
    ci_label = "MoCHi (128, 256, 0), the ci cut of (256, 512, 0)",
    paper = mixing(256, 512, 0),
)
MOCHI_1024_512_256 = _row(
    "mochi_1024_512_256",
    "MoCHi (1024, 512, 256)",
    default = mixing(1024, 512, 256),
    paper = mixing(1024, 512, 256),
)
MOCHI_256_2048_2048 = _row(
    "mochi_256_2048_2048",
    "MoCHi (256, 2048, 2048)",
    default = mixing(256, 2048, 2048),
    paper = mixing(256, 2048, 2048),
)

LINEAR_TOP1 = {"id": "linear_top1", "label": "linear top-1 (%)", "file": "lincls", "key": "top1", "scale": 100.0, "digits": 2}
KNN_TOP1 = {"id": "knn_top1", "label": "kNN top-1 (%)", "file": "knn", "key": "value", "scale": 100.0, "digits": 2}
RAW_PIXEL_KNN = {"id": "raw_pixel_knn", "label": "raw-pixel kNN (%)", "file": "knn", "key": "raw_pixels_value", "scale": 100.0, "digits": 2}

FIGURES = {
    "figure_proxy_accuracy": {
        "id": "proxy_accuracy",
        "title": "Proxy-task accuracy during training (dashed: MoCHi without its synthetic negatives)",
        "kind": "epoch_curve",
        "key": "proxy_acc",
        "secondary_key": "proxy_acc_without_synthetic",
        "ylabel": "proxy-task accuracy",
    },
    "figure_hardness": {
        "id": "hardness",
        "title": "Matching probabilities of the 1024 hardest negatives (last epoch)",
        "kind": "sorted_profile",
        "key": "top_negative_probabilities",
        "ylabel": "matching probability",
    },
    "figure_false_negatives": {
        "id": "false_negatives",
        "title": "Share of same-class (false) negatives among the 1024 hardest (class oracle)",
        "kind": "epoch_curve",
        "key": "false_negative_share_top1024",
        "secondary_key": "synthetic_from_false_negative_share",
        "ylabel": "share",
    },
    "figure_alignment_uniformity": {
        "id": "alignment_uniformity",
        "title": "Alignment (q, k) of the training batch per epoch",
        "kind": "epoch_curve",
        "key": "alignment_qk",
        "ylabel": "alignment (lower is better)",
    },
}

TABLES = {
    "table1": {
        "title": "Table 1: MoCo-v2 vs MoCHi (N, s, s'), linear classification (ImageNet-100 in the paper)",
        "rows": [MOCOV2, MOCHI_256_512_0, MOCHI_1024_512_256, MOCHI_256_2048_2048],
        "columns": [LINEAR_TOP1, KNN_TOP1, RAW_PIXEL_KNN],
        "notes": {
            "default": "Fashion-MNIST, width-16 ResNet-18, 20k training images, 6 epochs, K = 4096, 2 seeds; linear eval on cached features (configs/lincls/fmnist.pbtxt). VOC columns of the paper: see table3 and issue 5.",
            "ci": "CI cut: 12,800 images, 3 epochs, K = 2048, one seed.",
        },
    },
    "table_appendix_queue": {
        "title": "Appendix: queue size K (MoCo-v2 and MoCHi (256, 512, 0))",
        "rows": [
            MOCOV2,
            _row("mocov2_k1024", "MoCo-v2, K = 1024", default = "moco { queue_size: 1024 } "),
            MOCHI_256_512_0,
            _row("mochi_256_512_0_k1024", "MoCHi (256, 512, 0), K = 1024", default = "moco { queue_size: 1024 } " + mixing(256, 512, 0)),
        ],
        "columns": [KNN_TOP1],
    },
    "table_appendix_temperature": {
        "title": "Appendix: temperature tau",
        "rows": [
            MOCOV2,
            _row("mocov2_t01", "MoCo-v2, tau = 0.1", default = "moco { temperature: 0.1 } "),
            MOCHI_256_512_0,
            _row("mochi_256_512_0_t01", "MoCHi (256, 512, 0), tau = 0.1", default = "moco { temperature: 0.1 } " + mixing(256, 512, 0)),
        ],
        "columns": [KNN_TOP1],
    },
    "table_appendix_mixing_type": {
        "title": "Appendix: mixing type 1 only (s' = 0), type 2 only (s = 0), both",
        "rows": [
            MOCOV2,
            _row("mochi_1024_512_0", "type 1 only: MoCHi (1024, 512, 0)", default = mixing(1024, 512, 0)),
            _row("mochi_1024_0_256", "type 2 only: MoCHi (1024, 0, 256)", default = mixing(1024, 0, 256)),
            MOCHI_1024_512_256,
        ],
        "columns": [KNN_TOP1],
    },
    "table_appendix_start_epoch": {
        "title": "Appendix: epoch at which mixing starts",
        "rows": [
            MOCOV2,
            MOCHI_1024_512_256,
            _row("mochi_1024_512_256_start3", "MoCHi (1024, 512, 256) from epoch 3", default = mixing(1024, 512, 256, "start_epoch: 3 ")),
        ],
        "columns": [KNN_TOP1],
    },
}

# Figures: reports without table columns, from the training statistics of table-1 runs.
FIGURE_TABLES = {
    name: {
        "title": figure["title"],
        "rows": [MOCOV2, MOCHI_256_512_0],
        "columns": [],
        "figures": [figure],
    }
    for name, figure in FIGURES.items()
}

# The CI regression rows and the metrics it checks (see regression_expected.json).
REGRESSION_ROWS = [MOCOV2, MOCHI_256_512_0]

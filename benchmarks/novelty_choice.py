"""How the "not a digit" score was chosen, and what it achieves on clothing it never saw.

Choosing: validation digits against synthetic non-digits (random noise, pen strokes, shapes,
letters drawn with Pillow's default font, inverted digits, blank images), and digits drawn with
the same font, which a score should keep. Measuring: the MNIST test set against the Fashion-MNIST
test set, used for nothing else. For each candidate score: AUROC (digits above non-digits) and
the false-positive rate at the threshold that keeps 95% of the digits (FPR95).

    python benchmarks/novelty_choice.py MODEL            # a model file saved by `digitnet train`
    python benchmarks/novelty_choice.py MODEL --count 300 --seed 1

Needs Pillow (the ``image`` extra) and the Fashion-MNIST files ($DIGITNET_FASHION_MNIST_DATA or
--fashion-data). docs/trust.md quotes its output.
"""

from __future__ import annotations

import argparse
import string
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitnet.config import seeded_split
from digitnet.data import load_mnist_split, resolve_data_dir, scale_images
from digitnet.functional import softmax
from digitnet.novelty import (
    NoveltyDetector,
    auroc,
    energy,
    false_positive_rate,
    nearest_class_distance,
    whitening_matrix,
)
from digitnet.persistence import load_model
from digitnet.preprocess import mnist_preprocess

PAD = 112  # drawings are made on a 112x112 pad, then framed as the page and `predict` frame them
# letters that look like digits in Pillow's font (l and 1, O and 0, S and 5, ...) would be unfair
DIGIT_LIKE_LETTERS = set("IlOoSsZzbgqDB")


def framed(picture: Image.Image) -> np.ndarray:
    return mnist_preprocess(np.asarray(picture, dtype=np.float32) / 255).reshape(-1)


def noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform, salt-and-pepper of random density, and clipped Gaussian noise, as 28x28 images."""
    kinds = [
        lambda: rng.uniform(0, 1, 784),
        lambda: (rng.uniform(0, 1, 784) < rng.uniform(0.05, 0.5)).astype(float),
        lambda: np.clip(rng.normal(0.3, 0.3, 784), 0, 1),
    ]
    return np.array([kinds[i % 3]() for i in range(n)], dtype=np.float32)


def strokes(rng: np.random.Generator, n: int) -> np.ndarray:
    """One to four random polylines of 2-4 points, pen 6-12 pixels wide."""
    images = []
    for _ in range(n):
        picture = Image.new("L", (PAD, PAD))
        pen = ImageDraw.Draw(picture)
        for _ in range(rng.integers(1, 5)):
            points = [tuple(int(v) for v in rng.integers(0, PAD, 2)) for _ in range(rng.integers(2, 5))]
            pen.line(points, fill=255, width=int(rng.integers(6, 12)))
        images.append(framed(picture))
    return np.array(images)


def shapes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rectangle outlines, filled rectangles, filled ellipses and triangle outlines."""
    images = []
    for i in range(n):
        picture = Image.new("L", (PAD, PAD))
        pen = ImageDraw.Draw(picture)
        x0, y0 = (int(v) for v in rng.integers(0, PAD // 2, 2))
        x1, y1 = x0 + int(rng.integers(20, PAD // 2)), y0 + int(rng.integers(20, PAD // 2))
        width = int(rng.integers(6, 12))
        box, kind = [x0, y0, x1, y1], i % 4
        if kind == 0:
            pen.rectangle(box, outline=255, width=width)
        elif kind == 1:
            pen.rectangle(box, fill=255)
        elif kind == 2:
            pen.ellipse(box, fill=255)
        else:
            pen.polygon([(x0, y1), (x1, y1), ((x0 + x1) // 2, y0)], outline=255, width=width)
        images.append(framed(picture))
    return np.array(images)


def glyphs(rng: np.random.Generator, n: int, characters: str) -> np.ndarray:
    """Characters of Pillow's default font at 50-90 pixels, stroke 0-3, turned up to 10 degrees."""
    images = []
    for _ in range(n):
        picture = Image.new("L", (PAD, PAD))
        font = ImageFont.load_default(size=int(rng.integers(50, 90)))
        character = characters[rng.integers(len(characters))]
        ImageDraw.Draw(picture).text((15, 0), character, fill=255, font=font, stroke_width=int(rng.integers(0, 4)))
        images.append(framed(picture.rotate(float(rng.uniform(-10, 10)), resample=Image.Resampling.BILINEAR)))
    return np.array(images)


def synthetic_non_digits(rng: np.random.Generator, n: int, val_images: np.ndarray) -> dict[str, np.ndarray]:
    letters = "".join(c for c in string.ascii_letters if c not in DIGIT_LIKE_LETTERS)
    return {
        "noise": noise(rng, n),
        "strokes": strokes(rng, n),
        "shapes": shapes(rng, n),
        "letters": glyphs(rng, n, letters),
        "inverted digits": 1 - val_images[:n],
        "blank": np.zeros((5, 784), dtype=np.float32),
    }


def mahalanobis_score(train_features: np.ndarray, labels: np.ndarray):
    """The negative distance to the nearest class mean under the shared covariance of ``features``."""
    means = np.stack([train_features[labels == c].mean(axis=0) for c in range(10)]).astype(np.float32)
    whitening = whitening_matrix(train_features - means[labels]).astype(np.float32)
    return lambda features: -nearest_class_distance(features, means, whitening)


def candidate_scores(network, train_X, train_labels, val_X, val_logits) -> dict:
    """name -> score(X, logits); higher means more like a digit."""
    hidden_score = mahalanobis_score(network.infer(train_X)[0][0], train_labels)
    pixel_score = mahalanobis_score(train_X, train_labels)
    mean, components = train_X.mean(axis=0), np.linalg.svd(train_X[::3] - train_X.mean(axis=0), full_matrices=False)[2]
    chosen = NoveltyDetector.fit(train_X, train_labels, val_X, val_logits)

    def pca_residual(X, logits, top=components[:100]):
        centred = X - mean
        return -np.linalg.norm(centred - centred @ top.T @ top, axis=1)

    return {
        "max softmax (baseline)": lambda X, logits: softmax(logits).max(axis=1),
        "max logit": lambda X, logits: logits.max(axis=1),
        "energy": lambda X, logits: energy(logits),
        "Mahalanobis, hidden layer": lambda X, logits: hidden_score(network.infer(X)[0][0]),
        "PCA residual (100 components)": pca_residual,
        "Mahalanobis, pixels": lambda X, logits: pixel_score(X),
        "pixels + energy (chosen)": chosen.scores,
    }, chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--data", help="MNIST folder (default: $DIGITNET_DATA, then the user cache)")
    parser.add_argument("--fashion-data", help="Fashion-MNIST folder (default: $DIGITNET_FASHION_MNIST_DATA)")
    parser.add_argument("--count", type=int, default=500, help="synthetic images of each kind")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = load_model(args.model)
    network, config = model.network, model.metadata["config"]
    train_set, val_set = seeded_split(
        load_mnist_split(resolve_data_dir(args.data), "train"), config["val_size"], config["seed"]
    )
    test_set = load_mnist_split(resolve_data_dir(args.data), "test")
    fashion = load_mnist_split(
        resolve_data_dir(args.fashion_data, dataset="fashion-mnist"), "test", dataset="fashion-mnist"
    )
    train_X, val_X, test_X, fashion_X = (scale_images(d.images) for d in (train_set, val_set, test_set, fashion))
    rng = np.random.default_rng(args.seed)
    synthetic = synthetic_non_digits(rng, args.count, val_X)
    font_digits = glyphs(rng, args.count, string.digits)
    scores, chosen = candidate_scores(network, train_X, train_set.require_labels(), val_X, network.logits(val_X))

    def score(name, X):
        return scores[name](X, network.logits(X.astype(np.float32)))

    kinds = list(synthetic)
    print(
        f"{args.model}: {len(val_X)} validation digits against {args.count} synthetic images of each kind "
        f"(5 blank); AUROC, and FPR95 over all of them; then the font's digits kept at the 95% threshold"
    )
    print(
        "| score | " + " | ".join(kinds) + " | all synthetic: AUROC | FPR95 | font digits kept "
        "| Fashion-MNIST: AUROC | FPR95 |"
    )
    print("| --- " * (len(kinds) + 6) + "|")
    for name in scores:
        digits, test = score(name, val_X), score(name, test_X)
        by_kind = {kind: score(name, X) for kind, X in synthetic.items()}
        everything = np.concatenate(list(by_kind.values()))
        kept_font = np.mean(score(name, font_digits) >= np.quantile(digits, 0.05))
        clothes = score(name, fashion_X)
        print(
            f"| {name} | "
            + " | ".join(f"{auroc(digits, by_kind[k]):.3f}" for k in kinds)
            + f" | {auroc(digits, everything):.4f} | {100 * false_positive_rate(digits, everything):.1f}% "
            f"| {100 * kept_font:.1f}% | {auroc(test, clothes):.4f} | {100 * false_positive_rate(test, clothes):.1f}% |"
        )
    test_logits = network.logits(test_X)
    kept = ~chosen.is_novel(test_X, test_logits)
    correct = test_logits.argmax(axis=1) == test_set.require_labels()
    accepted = ~chosen.is_novel(fashion_X, network.logits(fashion_X))
    print(
        f"\nThe chosen score at its stored threshold (keeps {100 * chosen.kept_fraction:g}% of validation digits): "
        f"keeps {100 * kept.mean():.2f}% of MNIST test digits, {100 * correct[kept].mean():.2f}% right among them "
        f"(all: {100 * correct.mean():.2f}%; rejected counted wrong: {100 * (correct & kept).mean():.2f}%); "
        f"accepts {100 * accepted.mean():.2f}% of Fashion-MNIST test images as digits."
    )
    for kind, X in synthetic.items():
        print(f"  'not a digit' for {100 * chosen.is_novel(X, network.logits(X)).mean():.1f}% of {kind}")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

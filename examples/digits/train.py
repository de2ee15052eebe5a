"""Train a small ReLU MLP with biases on scikit-learn's 8x8 digits and export it for slth.

    python examples/digits/train.py            # writes the three files below, in this folder
    python examples/digits/train.py --hidden 24,16 --out DIR   # a 64-24-16-10 MLP in DIR

Data: the 1,797 handwritten digits bundled with scikit-learn (no download), each 8x8 image
flattened to 64 pixel intensities and scaled to unit L2 norm, so every input lies in the
unit ball (and in the non-negative orthant): `slth certify --radius 1 --nonnegative` covers
all of them. A stratified 30% is held out for testing (random_state 0).

Model: 64-32-10, ReLU hidden layer, linear output (logits), trained by scikit-learn's
MLPClassifier (Adam, L2 penalty alpha keeps the weights small, which keeps the certified
epsilon small), then rounded to float32: the exported float32 network is the model; the
accuracy printed is that of the float32 network.

Outputs (next to this script):
  model.safetensors  tensors named as torch.nn.Sequential(Linear, ReLU, Linear) would name
                     them: 0.weight [32, 64], 0.bias [32], 2.weight [10, 32], 2.bias [10],
                     float32; __metadata__ {"activations": "relu,linear"}
  test_inputs.npy    float32 [N, 64], the held-out inputs (unit L2 norm)
  test_labels.npy    int64 [N], their digits

A PyTorch model of the same shape is exported the same way:
    safetensors.torch.save_file(model.state_dict(), "model.safetensors")

Needs: pip install scikit-learn numpy safetensors  (tested with scikit-learn 1.9.1,
numpy 2.4.6, safetensors 0.8.0). The outputs depend on these versions only through
floating-point details of training; the committed files are what the tests use.
"""

import argparse
import os

import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HIDDEN = 32
ALPHA = 0.1  # L2 penalty
TEST_SHARE = 0.3
SEED = 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", default=str(HIDDEN),
                        help="hidden widths, comma-separated (default 32: the committed model)")
    parser.add_argument("--out", default=None,
                        help="folder for the three files (default: this script's folder)")
    args = parser.parse_args()
    hidden_sizes = tuple(int(h) for h in args.hidden.split(","))
    here = args.out or os.path.dirname(os.path.abspath(__file__))
    os.makedirs(here, exist_ok=True)
    images, labels = load_digits(return_X_y=True)
    inputs = images / np.linalg.norm(images, axis=1, keepdims=True)
    train_x, test_x, train_y, test_y = train_test_split(
        inputs, labels, test_size=TEST_SHARE, random_state=SEED, stratify=labels
    )
    classifier = MLPClassifier(
        hidden_layer_sizes=hidden_sizes, activation="relu", alpha=ALPHA, max_iter=5000,
        random_state=SEED,
    )
    classifier.fit(train_x, train_y)

    # scikit-learn stores coefs_ as [in, out]; PyTorch's nn.Linear weight is [out, in].
    # Names as torch.nn.Sequential(Linear, ReLU, Linear, ...) gives them: layer k is 2k.
    tensors = {}
    for k, (w, b) in enumerate(zip(classifier.coefs_, classifier.intercepts_)):
        tensors[f"{2 * k}.weight"] = np.ascontiguousarray(w.T, dtype=np.float32)
        tensors[f"{2 * k}.bias"] = b.astype(np.float32)
    layers = len(classifier.coefs_)
    activations = ",".join(["relu"] * (layers - 1) + ["linear"])
    save_file(tensors, os.path.join(here, "model.safetensors"),
              metadata={"activations": activations})
    test_x32 = test_x.astype(np.float32)
    np.save(os.path.join(here, "test_inputs.npy"), test_x32)
    np.save(os.path.join(here, "test_labels.npy"), test_y.astype(np.int64))

    # Accuracy of the exported float32 network, evaluated in float64.
    logits = test_x32.astype(np.float64)
    for k in range(layers):
        logits = logits @ tensors[f"{2 * k}.weight"].T.astype(np.float64) + tensors[f"{2 * k}.bias"]
        if k + 1 < layers:
            logits = np.maximum(logits, 0.0)
    accuracy = np.mean(np.argmax(logits, axis=1) == test_y)
    ordered = np.sort(logits, axis=1)
    margins = ordered[:, -1] - ordered[:, -2]
    print(f"train {len(train_y)}, test {len(test_y)}; test accuracy of the float32 model: "
          f"{accuracy:.4f} ({int(round(accuracy * len(test_y)))}/{len(test_y)})")
    names = [f"{2 * k}.weight" for k in range(layers)]
    print("Frobenius norms:", [round(float(np.linalg.norm(tensors[k])), 3) for k in names],
          "spectral norms:", [round(float(np.linalg.norm(tensors[k], 2)), 3) for k in names])
    print("top-two logit margin: 5th percentile %.3f, median %.3f" % tuple(np.percentile(margins, [5, 50])))


if __name__ == "__main__":
    main()

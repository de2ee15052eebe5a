"""Train LeNet-300-100 (784-300-100-10, ReLU, with biases) in PyTorch on 28x28 digits and
export it for slth.

    python examples/lenet/train.py          # writes the three files below, in this folder
    python examples/lenet/train.py --hidden 128,64 --out DIR   # another MLP, same recipe

Data: the 1,797 handwritten 8x8 digits bundled with scikit-learn (no download), upscaled to
28x28 (bilinear, as MNIST-sized inputs) and flattened to 784 values, then scaled to L2 norm
1 - 2^-10. The margin matters: a vector scaled to norm exactly 1 in float64 can land just
outside the unit ball once rounded to float32, and `slth eval` then (rightly) says it is
outside the certified domain. A stratified 30% is held out for testing (random_state 0).

Model: torch.nn.Sequential(Linear(784, 300), ReLU, Linear(300, 100), ReLU,
Linear(100, 10)), the fully connected network of Frankle and Carbin's lottery ticket paper,
trained with Adam and weight decay on the cross-entropy, in float32. Nothing else: no
constraint on the weights' norms.

Outputs (next to this script):
  model.safetensors  safetensors.torch.save_file(model.state_dict(), ...): 0.weight, 0.bias,
                     2.weight, 2.bias, 4.weight, 4.bias, float32;
                     __metadata__ {"activations": "relu,relu,linear"}
  test_inputs.npy    float32 [N, 784], the held-out inputs
  test_labels.npy    int64 [N], their digits

Needs: pip install torch scikit-learn numpy safetensors (PyTorch is only needed to retrain;
slth's build and tests use the committed files).
"""

import argparse
import os

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
TEST_SHARE = 0.3
EPOCHS = 60
BATCH = 64
LEARNING_RATE = 1e-3
WEIGHT_DECAY = 1e-3
NORM = 1.0 - 2.0**-10


def inputs_28x28(images):
    """8x8 images (values 0..16) -> 784 values of L2 norm NORM."""
    x = torch.tensor(images, dtype=torch.float64).reshape(-1, 1, 8, 8)
    x = torch.nn.functional.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False)
    x = x.reshape(-1, 784)
    return (x / x.norm(dim=1, keepdim=True) * NORM).float()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="300,100", help="hidden widths (default 300,100)")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                        help="output folder (default: next to this script)")
    arguments = parser.parse_args()
    hidden = [int(h) for h in arguments.hidden.split(",")]
    here = arguments.out
    os.makedirs(here, exist_ok=True)
    torch.manual_seed(SEED)
    images, labels = load_digits(return_X_y=True)
    train_idx, test_idx = train_test_split(
        np.arange(len(labels)), test_size=TEST_SHARE, random_state=SEED, stratify=labels
    )
    x = inputs_28x28(images)
    y = torch.tensor(labels, dtype=torch.long)
    train_x, train_y = x[train_idx], y[train_idx]
    test_x, test_y = x[test_idx], y[test_idx]

    widths = [784] + hidden + [10]
    layers = []
    for n_in, n_out in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    loss_of = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        order = torch.randperm(len(train_y), generator=generator)
        for start in range(0, len(order), BATCH):
            batch = order[start:start + BATCH]
            optimiser.zero_grad()
            loss = loss_of(model(train_x[batch]), train_y[batch])
            loss.backward()
            optimiser.step()

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    activations = ",".join(["relu"] * len(hidden) + ["linear"])
    save_file(state, os.path.join(here, "model.safetensors"),
              metadata={"activations": activations})
    np.save(os.path.join(here, "test_inputs.npy"), test_x.numpy())
    np.save(os.path.join(here, "test_labels.npy"), test_y.numpy().astype(np.int64))

    with torch.no_grad():
        logits = model(test_x)
        accuracy = (logits.argmax(dim=1) == test_y).float().mean().item()
        norms = [torch.linalg.matrix_norm(state[f"{2 * k}.weight"], ord=2).item()
                 for k in range(len(widths) - 1)]
        largest = test_x.double().norm(dim=1).max().item()
    print(f"train {len(train_y)}, test {len(test_y)}; test accuracy {accuracy:.4f}")
    print("spectral norms of the weights:", [round(n, 3) for n in norms])
    print(f"largest test input norm {largest:.9f}")


if __name__ == "__main__":
    main()

"""Writes the PyTorch-exported ONNX fixtures of strata-onnx's import tests:

  onnx/tests/fixtures/lenet5_pytorch.onnx  LeNet-5 (ReLU, max pooling) as strata-models' LeNet5
  onnx/tests/fixtures/lstm_pytorch.onnx    nn.LSTM(28, 32, batch_first) + nn.Linear(32, 10) on
                                           images read row by row
  onnx/tests/fixtures/gru_pytorch.onnx     nn.GRU(28, 16) (time-major) + nn.Linear(16, 10) on the
                                           rows, the last step's output
  onnx/tests/fixtures/expected.json        for each: an input (seeded, batch 3) and PyTorch's
                                           output

Both are exported by torch.onnx.export (the dynamo exporter, opset 17) with a dynamic batch
dimension, from seed-0 initialisation in evaluation mode.

    python reference/onnx_fixtures.py     # needs torch, onnx, onnxscript
"""
import json
from pathlib import Path

import torch
import torch.nn as nn

OUT = Path(__file__).resolve().parents[1] / "onnx" / "tests" / "fixtures"


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class LstmClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 32, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x.reshape(x.shape[0], 28, 28))
        return self.fc(h[-1])


class GruClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(28, 16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        rows = x.reshape(x.shape[0], 28, 28).transpose(0, 1)
        out, _ = self.gru(rows)
        return self.fc(out[-1])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {}
    models = [("lenet5_pytorch", LeNet5()), ("lstm_pytorch", LstmClassifier()),
              ("gru_pytorch", GruClassifier())]
    for name, model in models:
        torch.manual_seed(0)
        model = type(model)().eval()
        example = torch.randn(2, 1, 28, 28)
        torch.onnx.export(
            model, (example,), str(OUT / f"{name}.onnx"), input_names=["x"], output_names=["y"],
            dynamic_shapes=({0: torch.export.Dim("N")},), opset_version=17, dynamo=True,
            external_data=False)
        x = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            y = model(x)
        expected[name] = {"input": x.flatten().tolist(), "input_shape": list(x.shape),
                          "output": y.flatten().tolist(), "output_shape": list(y.shape)}
    (OUT / "expected.json").write_text(json.dumps(expected))


if __name__ == "__main__":
    main()

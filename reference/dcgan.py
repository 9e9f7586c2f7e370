"""DCGAN for 28x28 images (PyTorch eager, float32), the network of strata-models' `Dcgan`:
  generator:     z (100) -> Linear 6272 -> BN1d -> ReLU -> [128, 7, 7]
                 -> ConvTranspose 128->64 k4 s2 p1 -> BN2d -> ReLU -> [64, 14, 14]
                 -> ConvTranspose 64->1 k4 s2 p1 -> tanh -> [1, 28, 28]
  discriminator: Conv 1->64 k4 s2 p1 -> LeakyReLU 0.2 -> Conv 64->128 k4 s2 p1 -> BN2d
                 -> LeakyReLU 0.2 -> Linear 6272 -> 1 (logit)
  init N(0, 0.02) for conv/linear weights, N(1, 0.02) for BN weights, zero biases;
  Adam 2e-4, betas (0.5, 0.999), batch 64, images scaled to [-1, 1];
  per batch: D step on real (label 1) and detached fakes (label 0) with BCE-with-logits,
  then the non-saturating G step (fakes labelled 1) on the same fakes.
Reports seconds per epoch.
    python dcgan.py --data /usr/share/datasets/fashion-mnist --epochs 1 --threads 1
"""
import sys
import time
from pathlib import Path

# The shared helpers (argument parsing, thread pinning, data loading, result files) live beside
# the other reference scripts, in ../shared/reference next to the repository.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "reference"))
import common  # noqa: E402


def main():
    p = common.base_parser(__doc__)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch = common.setup(args)
    nn, F = torch.nn, torch.nn.functional
    torch.manual_seed(args.seed)
    xtr, _, _, _, _ = common.load_dataset(args.data)
    x = torch.from_numpy(common.scaled(xtr)).reshape(-1, 1, 28, 28) * 2 - 1
    if args.limit:
        x = x[: args.limit]

    class View(nn.Module):
        def __init__(self, *shape):
            super().__init__()
            self.shape = shape

        def forward(self, t):
            return t.reshape(t.shape[0], *self.shape)

    g = nn.Sequential(nn.Linear(100, 6272), nn.BatchNorm1d(6272), nn.ReLU(), View(128, 7, 7),
                      nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                      nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1),
                      nn.BatchNorm2d(128), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1))
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02); nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02); nn.init.zeros_(m.bias)
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    recs = []
    for epoch in range(args.epochs):
        perm = torch.randperm(x.shape[0])
        t0 = time.perf_counter()
        dl = gl = 0.0
        n = 0
        for i in range(0, x.shape[0] - args.batch_size + 1, args.batch_size):
            real = x[perm[i:i + args.batch_size]]
            b = real.shape[0]
            fake = g(torch.randn(b, 100))
            ld = F.binary_cross_entropy_with_logits(d(real), torch.ones(b, 1)) + \
                F.binary_cross_entropy_with_logits(d(fake.detach()), torch.zeros(b, 1))
            od.zero_grad(set_to_none=True); ld.backward(); od.step()
            lg = F.binary_cross_entropy_with_logits(d(fake), torch.ones(b, 1))
            og.zero_grad(set_to_none=True); lg.backward(); og.step()
            dl += ld.item(); gl += lg.item(); n += 1
        dt = time.perf_counter() - t0
        recs.append({"name": "dcgan-epoch", "epoch": epoch + 1, "seconds": round(dt, 3), "images": n * args.batch_size,
                     "d_loss": round(dl / n, 4), "g_loss": round(gl / n, 4)})
        print(recs[-1], flush=True)
    common.write(args, f"dcgan-t{args.threads}", recs)


if __name__ == "__main__":
    main()

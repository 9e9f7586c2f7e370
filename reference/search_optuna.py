"""The search of strata-search's `search_mlp` example done with Optuna and PyTorch, to compare
the best validation error and the wall time on the same budget.

Same space (1-3 hidden layers of 32-1024 units on a log scale, relu/tanh/sigmoid, dropout
0-0.5, SGD with momentum 0-0.99 or Adam, learning rate 1e-4..1 on a log scale, batch 32/64/128/
256), same preprocessing (per-pixel z-score of the training set), a held-out validation tenth
of the training set (a seeded shuffle: the same size, other images than Strata's), validation
error after each epoch reported to Optuna's SuccessiveHalvingPruner (min_resource 1,
reduction factor 3), TPESampler(seed), trials of up to --epochs epochs, --workers trials at
once (threads, one torch thread each), stop after --trials trials or --minutes.

    python reference/search_optuna.py --data ../shared/data/mnist --trials 30 --workers 2
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared" / "reference"))
import common  # noqa: E402


def main():
    p = common.base_parser(__doc__)
    p.add_argument("--trials", type=int, default=30)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--epochs", type=int, default=9)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    common.pin_threads(args.workers)
    import numpy as np
    import optuna
    import torch
    import torch.nn as nn
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    xtr, ytr, xte, yte, name = common.load_dataset(args.data)
    xtr, xte = common.dlt_zscore(xtr, xte)
    order = np.random.default_rng(args.seed).permutation(len(xtr))
    n_val = round(0.1 * len(xtr))
    fit, val = order[:-n_val], order[-n_val:]
    x_fit, y_fit = torch.from_numpy(xtr[fit]), torch.from_numpy(ytr[fit].astype(np.int64))
    x_val, y_val = torch.from_numpy(xtr[val]), torch.from_numpy(ytr[val].astype(np.int64))

    def objective(trial):
        layers = trial.suggest_int("layers", 1, 3)
        widths = [trial.suggest_int(f"units_{k}", 32, 1024, log=True) for k in range(1, layers + 1)]
        activation = trial.suggest_categorical("activation", ["relu", "tanh", "sigmoid"])
        dropout = trial.suggest_float("dropout", 0.0, 0.5)
        optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
        momentum = trial.suggest_float("momentum", 0.0, 0.99) if optimizer == "sgd" else 0.0
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        batch = int(trial.suggest_categorical("batch_size", ["32", "64", "128", "256"]))
        act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[activation]
        torch.manual_seed(args.seed + trial.number)
        parts, width = [], 784
        for w in widths:
            parts += [nn.Linear(width, w), act(), nn.Dropout(dropout)]
            width = w
        model = nn.Sequential(*parts, nn.Linear(width, 10))
        opt = (torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum) if optimizer == "sgd"
               else torch.optim.Adam(model.parameters(), lr=lr))
        loss_fn = nn.CrossEntropyLoss()
        best = float("inf")
        g = torch.Generator().manual_seed(args.seed + trial.number)
        for epoch in range(1, args.epochs + 1):
            model.train()
            perm = torch.randperm(len(x_fit), generator=g)
            for i in range(0, len(perm), batch):
                idx = perm[i:i + batch]
                opt.zero_grad()
                loss = loss_fn(model(x_fit[idx]), y_fit[idx])
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                error = (model(x_val).argmax(1) != y_val).float().mean().item()
            if not np.isfinite(loss.item()):
                raise optuna.TrialPruned()
            best = min(best, error)
            trial.report(error, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return best

    study = optuna.create_study(
        direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3))
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=args.trials, timeout=args.minutes * 60, n_jobs=args.workers)
    seconds = time.perf_counter() - t0
    states = [t.state.name for t in study.trials]
    common.write(args, "search_optuna", [{
        "workload": "search_mlp", "data": name, "trials": len(study.trials),
        "pruned": states.count("PRUNED"), "best_val_error": study.best_value,
        "best_params": study.best_params, "seconds": seconds,
        "optuna": optuna.__version__,
        "trials_table": [{
            "number": t.number, "state": t.state.name, "value": t.value,
            "epochs": len(t.intermediate_values), "params": t.params,
            "seconds": t.duration.total_seconds() if t.duration else None,
        } for t in study.trials]}])


if __name__ == "__main__":
    main()

"""Prints the test vectors of rl/tests/dynamics.rs from Gymnasium itself (1.4.0): for a grid
of states and every action, one step of CartPole-v1, Acrobot-v1 and MountainCar-v0 (the state
after it, float64, and whether it terminated), and the step at which fixed action sequences
end an episode (terminated or truncated by the TimeLimit).

    python3 -m venv gym && gym/bin/pip install gymnasium==1.4.0
    gym/bin/python rl/tests/reference/gymnasium_vectors.py > /tmp/vectors.rs
"""
import itertools

import gymnasium as gym
import numpy as np


def one_step(env_id, states, actions):
    env = gym.make(env_id)
    env.reset(seed=0)
    rows = []
    for s in states:
        for a in actions:
            env.reset(seed=0)
            env.unwrapped.state = np.array(s, dtype=np.float64)
            _, r, term, trunc, _ = env.step(a)
            nxt = [float(v) for v in np.asarray(env.unwrapped.state, dtype=np.float64)]
            rows.append((list(s), a, nxt, r, term))
    return rows


def fmt(v):
    return repr(float(v)) if "." in repr(float(v)) or "e" in repr(float(v)) else repr(float(v)) + ".0"


def emit(name, rows):
    print(f"const {name}: &[StepRow] = &[")
    for s, a, n, r, t in rows:
        print(f"    (&[{', '.join(map(fmt, s))}], {a}, &[{', '.join(map(fmt, n))}], {fmt(r)}, {str(t).lower()}),")
    print("];")


def episode_end(env_id, start, policy):
    env = gym.make(env_id)
    env.reset(seed=0)
    env.unwrapped.state = np.array(start, dtype=np.float64)
    for t in itertools.count(1):
        _, _, term, trunc, _ = env.step(policy(t, env.unwrapped.state))
        if term or trunc:
            return t, term, trunc


cart = [(x, v, th, w) for x in (-2.3, 0.0, 1.7) for v in (-1.5, 0.3) for th in (-0.2, 0.05, 0.19) for w in (-2.0, 0.7)]
emit("CARTPOLE", one_step("CartPole-v1", cart, [0, 1]))
acro = [(t1, t2, d1, d2) for t1 in (-3.0, 0.4, 2.9) for t2 in (-1.2, 3.1) for d1 in (-12.0, 0.5, 12.5) for d2 in (-28.0, 2.0)]
emit("ACROBOT", one_step("Acrobot-v1", acro, [0, 1, 2]))
car = [(x, v) for x in (-1.2, -1.19, -0.52, 0.0, 0.45, 0.499, 0.6) for v in (-0.07, -0.01, 0.0, 0.02, 0.07)]
emit("MOUNTAIN_CAR", one_step("MountainCar-v0", car, [0, 1, 2]))

print("const EPISODE_ENDS: &[EpisodeEnd] = &[")
for env_id, start, name, policy in [
    ("CartPole-v1", (0.0, 0.0, 0.01, 0.0), "right", lambda t, s: 1),
    ("CartPole-v1", (0.0, 0.0, 0.0, 0.0), "alternate", lambda t, s: t % 2),
    ("CartPole-v1", (0.0, 0.0, 0.01, 0.0), "balance", lambda t, s: int(s[2] + 0.5 * s[3] > 0)),
    ("Acrobot-v1", (0.0, 0.0, 0.0, 0.0), "none", lambda t, s: 1),
    ("Acrobot-v1", (0.05, 0.0, 0.0, 0.0), "pump", lambda t, s: 2 if s[3] > 0 else 0),
    ("MountainCar-v0", (-0.5, 0.0), "right", lambda t, s: 2),
    ("MountainCar-v0", (-0.5, 0.0), "pump", lambda t, s: 2 if s[1] >= 0 else 0),
]:
    t, term, trunc = episode_end(env_id, start, policy)
    print(f'    ("{env_id}", &[{", ".join(map(fmt, start))}], "{name}", {t}, {str(term).lower()}, {str(trunc).lower()}),')
print("];")

# PyTorch CPU as the peer of `bench --peers torch` (benchmarks/src/torch-peer.ts): the same flow-matching training
# steps as Rill's, each with the same initial weights (read from the safetensors files Rill writes: torchcfm's MLP
# layout, net.{i}.weight (out, in) and net.{i}.bias), the same batch and Adam, the data drawn on the host every step:
#   ref64, ref256 — the reference recipe: moons (torchcfm's sample_moons) → N(0, I), MLP 3-W-W-W-2 SELU, batch 256,
#                   Adam 1e-3, x_t = t z + (1 − t) x0 + σ ε with σ = 0.01, target z − x0;
#   checker       — the checkerboard recipe: Meta flow_matching's checkerboard, MLP 3-128-128-128-2 SiLU, batch 512, σ = 0.
# Serves steps on request for paired rounds: argv[1] threads, argv[2] the folder of <name>.safetensors; prints one JSON
# line {torch, threads}, then answers each line "<name> <k> [<w>]" with {"seconds": mean of k steps} (after w untimed ones).
# Run with OMP_WAIT_POLICY=PASSIVE so idle OpenMP threads do not spin while Rill runs.
import json, math, struct, sys, time
import torch
import torch.nn as nn

threads = int(sys.argv[1])
folder = sys.argv[2]
torch.set_num_threads(threads)
torch.manual_seed(0)

CONFIGS = {
    "ref64": {"width": 64, "act": nn.SELU, "batch": 256, "sigma": 0.01, "data": "moons"},
    "ref256": {"width": 256, "act": nn.SELU, "batch": 256, "sigma": 0.01, "data": "moons"},
    "checker": {"width": 128, "act": nn.SiLU, "batch": 512, "sigma": 0.0, "data": "checkerboard"},
}


def read_safetensors(path):
    """{name: float32 tensor} of a safetensors file (8-byte little-endian header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        out[name] = torch.frombuffer(bytearray(raw[8 + n + start : 8 + n + end]), dtype=torch.float32).reshape(spec["shape"])
    return out


def moons(n):
    # torchcfm's sample_moons: make_moons(n, noise=0) arcs, + u ~ U[0, 0.2) on both coordinates, then 3x − 1
    n_out = n // 2
    a_out = torch.linspace(0, math.pi, n_out)
    a_in = torch.linspace(0, math.pi, n - n_out)
    x = torch.cat([torch.stack([torch.cos(a_out), torch.sin(a_out)], 1), torch.stack([1 - torch.cos(a_in), 1 - torch.sin(a_in) - 0.5], 1)])
    return 3 * (x + 0.2 * torch.rand(n, 1)) - 1


def checkerboard(n):
    # Meta flow_matching's 2D notebook: x1 ~ U[−2, 2), x2 = U[0, 1) − 2·randint{0, 1} + (⌊x1⌋ mod 2), both / 0.45
    x1 = torch.rand(n) * 4 - 2
    x2 = torch.rand(n) - torch.randint(0, 2, (n,)).float() * 2 + torch.floor(x1) % 2
    return torch.stack([x1, x2], 1) / 0.45


def build(name):
    cfg = CONFIGS[name]
    w = cfg["width"]
    widths = [3, w, w, w, 2]
    layers = []
    for i in range(4):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < 3:
            layers.append(cfg["act"]())
    net = nn.Sequential(*layers)
    state = read_safetensors(f"{folder}/{name}.safetensors")
    net.load_state_dict({k.removeprefix("net."): v for k, v in state.items()})
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sample = moons if cfg["data"] == "moons" else checkerboard
    b, sigma = cfg["batch"], cfg["sigma"]

    def step():
        z, x0, t = sample(b), torch.randn(b, 2), torch.rand(b, 1)
        xt = t * z + (1 - t) * x0
        if sigma > 0:
            xt = xt + sigma * torch.randn(b, 2)
        loss = ((net(torch.cat([xt, t], 1)) - (z - x0)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    step()
    return step


steps = {name: build(name) for name in CONFIGS}
print(json.dumps({"torch": torch.__version__, "threads": threads}), flush=True)
for line in sys.stdin:
    # "<name> <k> [<w>]": w untimed steps (the turn's warm-up, as every peer's), then k timed ones
    name, k, *rest = line.split()
    for _ in range(int(rest[0]) if rest else 0):
        steps[name]()
    start = time.perf_counter()
    for _ in range(int(k)):
        steps[name]()
    print(json.dumps({"seconds": (time.perf_counter() - start) / int(k)}), flush=True)

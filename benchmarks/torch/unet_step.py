# PyTorch CPU as the peer of benchmarks/src/conv.ts: the same conv2d shapes (forward, and forward + backward) and the
# same U-Net training step (Rill's UNet at c = 32: channels c, 2c, 4c; residual blocks of group norm, SiLU and 3 × 3
# convolutions with the time and class embeddings added; batch 128; Adam 1e-3; the CFM loss), timed here and printed
# as JSON. Threads: argv[1] (default 2). Run with OMP_WAIT_POLICY=PASSIVE so idle OpenMP threads do not spin.
# --serve: after the conv shapes, step on request (a line k: k steps, answered with their mean), for paired rounds.
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
quick = "--quick" in sys.argv
torch.set_num_threads(threads)
torch.manual_seed(0)


def timed(fn, budget):
    fn()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < budget:
        fn()
        calls += 1
    return (time.perf_counter() - start) / calls


def groups(ch):
    return next(g for g in (8, 4, 2, 1) if ch % g == 0)


class Res(nn.Module):
    def __init__(self, cin, cout, emb):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups(cin), cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(groups(cout), cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, e):
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(e)[:, :, None, None]
        return self.conv2(F.silu(self.norm2(h))) + self.skip(x)


class UNet(nn.Module):
    def __init__(self, c=32, classes=10):
        super().__init__()
        emb = 4 * c
        self.register_buffer("freq", torch.tensor([2.0**k * math.pi for k in range(8)]))
        self.time1, self.time2 = nn.Linear(16, emb), nn.Linear(emb, emb)
        self.cls = nn.Embedding(classes + 1, emb)
        self.inp = nn.Conv2d(1, c, 3, padding=1)
        self.down0, self.pool0 = Res(c, c, emb), nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.down1, self.pool1 = Res(2 * c, 2 * c, emb), nn.Conv2d(2 * c, 4 * c, 3, stride=2, padding=1)
        self.mid = Res(4 * c, 4 * c, emb)
        self.up1conv, self.up1 = nn.Conv2d(4 * c, 2 * c, 3, padding=1), Res(4 * c, 2 * c, emb)
        self.up0conv, self.up0 = nn.Conv2d(2 * c, c, 3, padding=1), Res(2 * c, c, emb)
        self.out_norm, self.out = nn.GroupNorm(groups(c), c), nn.Conv2d(c, 1, 3, padding=1)

    def forward(self, x, t, y):
        a = t * self.freq
        e = self.time2(F.silu(self.time1(torch.cat([a.sin(), a.cos()], 1)))) + self.cls(y)
        h0 = self.down0(self.inp(x), e)
        h1 = self.down1(self.pool0(h0), e)
        h2 = self.mid(self.pool1(h1), e)
        u1 = self.up1(torch.cat([self.up1conv(F.interpolate(h2, scale_factor=2)), h1], 1), e)
        u0 = self.up0(torch.cat([self.up0conv(F.interpolate(u1, scale_factor=2)), h0], 1), e)
        return self.out(F.silu(self.out_norm(u0)))


result = {"torch": torch.__version__, "threads": threads, "conv": [], "step": None}
for (n, cin, size, cout, stride) in json.loads(sys.argv[2] if len(sys.argv) > 2 and sys.argv[2].startswith("[") else "[]"):
    x = torch.randn(n, cin, size, size, requires_grad=True)
    conv = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
    with torch.no_grad():
        fwd = timed(lambda: conv(x), 0.5 if quick else 2)

    def fb():
        y = conv(x)
        y.backward(torch.ones_like(y))

    result["conv"].append({"shape": [n, cin, size, cout, stride], "forward_s": fwd, "forward_backward_s": timed(fb, 0.5 if quick else 2)})

model = UNet()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
z, y = torch.randn(128, 1, 28, 28), torch.randint(0, 11, (128,))


def step():
    x0, t = torch.randn_like(z), torch.rand(128, 1)
    xt = t[:, :, None, None] * z + (1 - t[:, :, None, None]) * x0
    loss = F.mse_loss(model(xt, t, y), z - x0)
    opt.zero_grad()
    loss.backward()
    opt.step()


if "--serve" in sys.argv:
    # Paired rounds with a caller (benchmarks/src/conv.ts): each line "k" runs k steps and answers their mean time, so
    # the two sides alternate within seconds and see the machine in the same state.
    step()
    print(json.dumps(result), flush=True)
    for line in sys.stdin:
        k = int(line)
        start = time.perf_counter()
        for _ in range(k):
            step()
        print(json.dumps({"seconds": (time.perf_counter() - start) / k}), flush=True)
else:
    result["step"] = {"batch": 128, "channels": 32, "params": sum(p.numel() for p in model.parameters()), "seconds": timed(step, 3 if quick else 15)}
    print(json.dumps(result))

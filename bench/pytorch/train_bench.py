#!/usr/bin/python3
"""PyTorch side of `reid bench train`: trains the same ReID model and batch as the C# engine, for a fair
side-by-side figure. Run with Debian's python3-torch (`scripts/setup.sh --bench`), using /usr/bin/python3:

    /usr/bin/python3 bench/pytorch/train_bench.py --backbone resnet50 --batch 64 --precision bf16 --steps 5

The models are written out here (not taken from torchvision/torchreid) so both sides are visibly the same
architecture: ResNet-18 or ResNet-50 with last stride 1, or OSNet x1.0 / x0.25 (Zhou et al. 2019), then the ReID head (global average
pooling, BNNeck, bias-free classifier; OSNet pools itself and keeps torchreid's fc layer), cross-entropy over synthetic labels, SGD with momentum.
"""
import argparse, json, resource, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False); self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False); self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False); self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet18(nn.Module):
    """ResNet-18 with last stride 1, as `reid`'s resnet18 backbone."""

    def __init__(self, last_stride=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for width, blocks, stride in [(64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, last_stride)]:
            for i in range(blocks):
                layers.append(BasicBlock(cin, width, stride if i == 0 else 1)); cin = width
        self.layers = nn.Sequential(*layers)
        self.out_dim = 512
        self.pools = False

    def forward(self, x):
        return self.layers(self.stem(x))


class ResNet50(nn.Module):
    def __init__(self, last_stride=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], 64
        for width, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, last_stride)]:
            for i in range(blocks):
                layers.append(Bottleneck(cin, width, stride if i == 0 else 1)); cin = width * 4
        self.layers = nn.Sequential(*layers)
        self.out_dim = 2048
        self.pools = False

    def forward(self, x):
        return self.layers(self.stem(x))


class ConvLayer(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, groups=1, relu=True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, bias=False, groups=groups)
        self.bn = nn.BatchNorm2d(cout); self.relu = relu

    def forward(self, x):
        x = self.bn(self.conv(x))
        return F.relu(x) if self.relu else x


class LightConv3x3(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False, groups=cout)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    def __init__(self, c, reduction=16):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // reduction, 1); self.fc2 = nn.Conv2d(c // reduction, c, 1)

    def forward(self, x):
        g = F.adaptive_avg_pool2d(x, 1)
        return x * torch.sigmoid(self.fc2(F.relu(self.fc1(g))))


class OSBlock(nn.Module):
    def __init__(self, cin, cout, bottleneck_reduction=4):
        super().__init__()
        mid = cout // bottleneck_reduction
        self.conv1 = ConvLayer(cin, mid, 1)
        self.streams = nn.ModuleList([nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(t)]) for t in (1, 2, 3, 4)])
        self.gate = ChannelGate(mid)
        self.conv3 = ConvLayer(mid, cout, 1, relu=False)
        self.down = ConvLayer(cin, cout, 1, relu=False) if cin != cout else None

    def forward(self, x):
        y = self.conv1(x)
        y = sum(self.gate(s(y)) for s in self.streams)
        y = self.conv3(y)
        return F.relu(y + (x if self.down is None else self.down(x)))


class OSNet(nn.Module):
    def __init__(self, channels=(64, 256, 384, 512)):
        super().__init__()
        c = channels
        self.conv1 = ConvLayer(3, c[0], 7, 2, 3)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.conv2 = nn.Sequential(OSBlock(c[0], c[1]), OSBlock(c[1], c[1]), ConvLayer(c[1], c[1], 1), nn.AvgPool2d(2, 2))
        self.conv3 = nn.Sequential(OSBlock(c[1], c[2]), OSBlock(c[2], c[2]), ConvLayer(c[2], c[2], 1), nn.AvgPool2d(2, 2))
        self.conv4 = nn.Sequential(OSBlock(c[2], c[3]), OSBlock(c[3], c[3]))
        self.conv5 = ConvLayer(c[3], c[3], 1)
        self.fc = nn.Sequential(nn.Linear(c[3], 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True))
        self.out_dim = 512
        self.pools = True

    def forward(self, x):
        x = self.conv5(self.conv4(self.conv3(self.conv2(self.maxpool(self.conv1(x))))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class ReidNet(nn.Module):
    def __init__(self, backbone, classes):
        super().__init__()
        self.backbone = backbone
        self.bnneck = nn.BatchNorm1d(backbone.out_dim); self.bnneck.bias.requires_grad_(False)
        self.classifier = nn.Linear(backbone.out_dim, classes, bias=False)

    def forward(self, x):
        f = self.backbone(x)
        if not self.backbone.pools:
            f = F.adaptive_avg_pool2d(f, 1).flatten(1)
        return self.classifier(self.bnneck(f))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backbone", choices=["resnet18", "resnet50", "osnet_x1_0", "osnet_x0_25"], default="resnet50")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--precision", choices=["f32", "bf16"], default="f32")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--classes", type=int, default=751)
    p.add_argument("--height", type=int, default=256)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    backbone = {
        "resnet18": lambda: ResNet18(last_stride=1),
        "resnet50": lambda: ResNet50(last_stride=1),
        "osnet_x1_0": lambda: OSNet(),
        # torchreid's osnet_x0_25: every stage a quarter as wide, the same 512-wide fc layer
        "osnet_x0_25": lambda: OSNet(channels=(16, 64, 96, 128)),
    }[a.backbone]()
    model = ReidNet(backbone, a.classes).train()
    opt = torch.optim.SGD([q for q in model.parameters() if q.requires_grad], lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(a.batch, 3, a.height, a.width)
    y = torch.randint(0, a.classes, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.precision == "bf16"):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
    times.sort()
    median = times[len(times) // 2]
    result = {
        "engine": "pytorch " + torch.__version__,
        "backbone": a.backbone, "batch": a.batch, "precision": a.precision, "steps": a.steps,
        "images_per_s": a.batch / median,
        "step_seconds_median": median,
        "parameters": sum(q.numel() for q in model.parameters()),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()

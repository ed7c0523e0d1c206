using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CnnInterpret.Core.Models;

/// <summary>
/// torchvision's ResNets (He et al. 2016, "Deep Residual Learning"), with torchvision's module names
/// (<c>conv1</c>, <c>layer1.0.conv1</c>, <c>layer2.0.downsample.0</c>, <c>fc</c>) so its checkpoints load by
/// name. Each residual block is one layer of the sequence: the stem, the blocks, the pool and the head
/// run one after another, so block outputs (where Grad-CAM is usually taken) can be captured.
/// Display names follow Keras' ResNets: <c>conv2_block1</c> is the first block of the first stage.
/// The blocks' ReLUs go through <see cref="GuidedRelu"/>, so guided backpropagation reaches them.
/// </summary>
public static class ResNetArchitecture
{
    public static readonly IReadOnlyDictionary<string, (bool Bottleneck, int[] Blocks)> Variants = new Dictionary<string, (bool, int[])>
    {
        ["resnet18"] = (false, [2, 2, 2, 2]),
        ["resnet34"] = (false, [3, 4, 6, 3]),
        ["resnet50"] = (true, [3, 4, 6, 3]),
        ["resnet101"] = (true, [3, 4, 23, 3]),
        ["resnet152"] = (true, [3, 8, 36, 3]),
    };

    public static IReadOnlyList<(string Name, string DisplayName, string Kind, string Group, Module<Tensor, Tensor> Module)> BuildLayers(string variant, int numClasses = 1000)
    {
        var (bottleneck, blocks) = Variants[variant];
        var expansion = bottleneck ? 4 : 1;
        var layers = new List<(string, string, string, string, Module<Tensor, Tensor>)>
        {
            ("conv1", "conv1_conv", "Conv2d", "conv1", Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false)),
            ("bn1", "conv1_bn", "BatchNorm2d", "conv1", BatchNorm2d(64)),
            ("relu", "conv1_relu", "ReLU", "conv1", ReLU()),
            ("maxpool", "pool1_pool", "MaxPool2d", "conv1", MaxPool2d(3, 2, 1)),
        };
        var channels = 64;
        for (var stage = 0; stage < 4; stage++)
        {
            var width = 64 << stage;
            for (var b = 0; b < blocks[stage]; b++)
            {
                var stride = stage > 0 && b == 0 ? 2 : 1;
                Module<Tensor, Tensor> block = bottleneck
                    ? new Bottleneck(channels, width, stride)
                    : new BasicBlock(channels, width, stride);
                layers.Add(($"layer{stage + 1}.{b}", $"conv{stage + 2}_block{b + 1}", bottleneck ? "Bottleneck" : "BasicBlock", $"conv{stage + 2}", block));
                channels = width * expansion;
            }
        }
        layers.Add(("avgpool", "avg_pool", "AdaptiveAvgPool2d", "head", AdaptiveAvgPool2d([1, 1])));
        layers.Add(("flatten", "flatten", "Flatten", "head", Flatten()));
        layers.Add(("fc", "predictions", "Linear", "head", Linear(channels, numClasses)));
        return layers;
    }

    private static Module<Tensor, Tensor>? Downsample(int inChannels, int outChannels, int stride) =>
        stride == 1 && inChannels == outChannels ? null
            : Sequential(("0", Conv2d(inChannels, outChannels, 1, stride: stride, bias: false)), ("1", BatchNorm2d(outChannels)));

    /// <summary>Two 3×3 convs and a skip connection (ResNet-18/34).</summary>
    private sealed class BasicBlock : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> conv1, bn1, conv2, bn2;
        private readonly Module<Tensor, Tensor>? downsample;

        public BasicBlock(int inChannels, int width, int stride) : base(nameof(BasicBlock))
        {
            conv1 = Conv2d(inChannels, width, 3, stride: stride, padding: 1, bias: false);
            bn1 = BatchNorm2d(width);
            conv2 = Conv2d(width, width, 3, padding: 1, bias: false);
            bn2 = BatchNorm2d(width);
            downsample = Downsample(inChannels, width, stride);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = bn2.forward(conv2.forward(GuidedRelu.Relu(bn1.forward(conv1.forward(x)))));
            return GuidedRelu.Relu(y + (downsample?.forward(x) ?? x));
        }
    }

    /// <summary>1×1, 3×3 (strided, as torchvision's "ResNet v1.5"), 1×1 ×4 and a skip connection (ResNet-50 and up).</summary>
    private sealed class Bottleneck : Module<Tensor, Tensor>
    {
        private readonly Module<Tensor, Tensor> conv1, bn1, conv2, bn2, conv3, bn3;
        private readonly Module<Tensor, Tensor>? downsample;

        public Bottleneck(int inChannels, int width, int stride) : base(nameof(Bottleneck))
        {
            conv1 = Conv2d(inChannels, width, 1, bias: false);
            bn1 = BatchNorm2d(width);
            conv2 = Conv2d(width, width, 3, stride: stride, padding: 1, bias: false);
            bn2 = BatchNorm2d(width);
            conv3 = Conv2d(width, width * 4, 1, bias: false);
            bn3 = BatchNorm2d(width * 4);
            downsample = Downsample(inChannels, width * 4, stride);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var y = GuidedRelu.Relu(bn1.forward(conv1.forward(x)));
            y = GuidedRelu.Relu(bn2.forward(conv2.forward(y)));
            y = bn3.forward(conv3.forward(y));
            return GuidedRelu.Relu(y + (downsample?.forward(x) ?? x));
        }
    }
}

using Reid.Imaging;
using Reid.Onnx;

namespace Reid.Foundation.Tests.Inference;

/// <summary>Tiny ONNX graphs whose outputs can be computed by hand.</summary>
internal static class TinyModels
{
    /// <summary>W[k, i] = (k + 1) * (i % 5 - 2) + k: a 4x12 matrix with no mirror symmetry.</summary>
    public static float[] Weights => [.. Enumerable.Range(0, 48).Select(j => (float)((j / 12 + 1) * (j % 12 % 5 - 2) + j / 12))];

    /// <summary>x [batch|1, 3, 2, 2] → Flatten → Gemm(W, transB) → y [batch, 4].</summary>
    public static OnnxGraphBuilder Linear(bool fixedBatch = false, TensorElementType inputType = TensorElementType.Float)
    {
        var b = new OnnxGraphBuilder("linear", opset: 17);
        Dim n = fixedBatch ? 1 : "batch";
        b.Input("x", inputType, n, 3, 2, 2);
        b.Initializer("w", Weights, 4, 12);
        var x = "x";
        if (inputType != TensorElementType.Float)
        {
            b.Node("Cast", ["x"], ["xf"]).Attr("to", (long)TensorElementType.Float);
            x = "xf";
        }
        b.Node("Flatten", [x], ["flat"]).Attr("axis", 1L);
        b.Node("Gemm", ["flat", "w"], ["y"]).Attr("transB", 1L);
        b.Output("y", TensorElementType.Float, n, 4);
        return b;
    }

    /// <summary>x [batch, 3, h, w] (all dynamic) → GlobalAveragePool → Flatten → y [batch, d]: the channel means.</summary>
    public static OnnxGraphBuilder ChannelMeans()
    {
        var b = new OnnxGraphBuilder("means", opset: 17);
        b.Input("x", TensorElementType.Float, "batch", 3, "h", "w");
        b.Node("GlobalAveragePool", ["x"], ["pooled"]);
        b.Node("Flatten", ["pooled"], ["y"]).Attr("axis", 1L);
        b.Output("y", TensorElementType.Float, "batch", "d");
        return b;
    }

    /// <summary>W · x for one CHW input of 12 floats.</summary>
    public static float[] Apply(ReadOnlySpan<float> x)
    {
        var w = Weights;
        var y = new float[4];
        for (var k = 0; k < 4; k++)
            for (var i = 0; i < 12; i++) y[k] += w[k * 12 + i] * x[i];
        return y;
    }

    public static float[] Unit(float[] v)
    {
        var n = MathF.Sqrt(v.Sum(a => a * a));
        return [.. v.Select(a => a / n)];
    }

    /// <summary>Identity preprocessing at 2x2: the tensor is the pixel values themselves.</summary>
    public static Preprocessing Raw2x2 => new(2, 2, ChannelOrder.Rgb, 1f, (0, 0, 0), (1, 1, 1));

    public static RgbImage Image(int seed)
    {
        var img = RgbImage.Blank(2, 2);
        new Random(seed).NextBytes(img.Pixels);
        return img;
    }

    public static float[] Chw(RgbImage img, bool flip = false)
    {
        var t = new float[12];
        Raw2x2.Apply(img, t, flip);
        return t;
    }
}

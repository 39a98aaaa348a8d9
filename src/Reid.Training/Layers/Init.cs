using Reid.Training.Tensors;

namespace Reid.Training.Layers;

/// <summary>Weight initialisations (He et al. 2015 and PyTorch's layer defaults).</summary>
public static class Init
{
    /// <summary>Kaiming-uniform with a = √5 (PyTorch's Conv/Linear default): U(±1/√fanIn).</summary>
    public static Tensor DefaultWeight(Rng rng, int fanIn, params int[] shape)
    {
        var bound = (float)(1.0 / Math.Sqrt(Math.Max(1, fanIn)));
        return Tensor.RandomUniform(rng, -bound, bound, shape);
    }

    /// <summary>Kaiming-normal for ReLU networks: N(0, 2/fan).</summary>
    public static Tensor KaimingNormal(Rng rng, int fan, params int[] shape) =>
        Tensor.RandomNormal(rng, 0, (float)Math.Sqrt(2.0 / Math.Max(1, fan)), shape);

    /// <summary>Fills a parameter in place with N(mean, std).</summary>
    public static void Normal(Tensor t, Rng rng, float mean, float std)
    {
        var d = t.Data;
        for (var i = 0; i < d.Length; i++) d[i] = mean + std * (float)rng.NextGaussian();
    }

    /// <summary>Fills a parameter in place with Kaiming-normal values for the given fan.</summary>
    public static void KaimingNormal(Tensor t, Rng rng, int fan) => Normal(t, rng, 0, (float)Math.Sqrt(2.0 / Math.Max(1, fan)));

    public static void Constant(Tensor t, float value) => t.Data.Fill(value);
}

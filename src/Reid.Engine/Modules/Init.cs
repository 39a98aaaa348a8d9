using Reid.Engine.Tensors;

namespace Reid.Engine.Modules;

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

    /// <summary>
    /// Re-initialises every convolution and linear layer under <paramref name="root"/> the way torchreid does for
    /// from-scratch training: convolutions N(0, 2/fan_out) with fan_out = out channels × kernel area (PyTorch's
    /// definition, also for grouped convolutions), linear layers N(0, 0.01), biases 0. BatchNorms keep (1, 0).
    /// </summary>
    public static void KaimingFanOut(Module root, Rng rng)
    {
        foreach (var (_, m) in root.NamedModules())
        {
            switch (m)
            {
                case Conv2d c:
                    KaimingNormal(c.Weight, rng, c.OutChannels * c.KernelSize.H * c.KernelSize.W);
                    if (c.Bias is not null) Constant(c.Bias, 0);
                    break;
                case Linear l:
                    Normal(l.Weight, rng, 0, 0.01f);
                    if (l.Bias is not null) Constant(l.Bias, 0);
                    break;
            }
        }
    }
}

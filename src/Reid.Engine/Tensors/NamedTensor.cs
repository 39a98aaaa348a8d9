namespace Reid.Engine.Tensors;

/// <summary>One named float32 array with its shape: what checkpoints and optimiser state are saved as.</summary>
public sealed record NamedTensor(string Name, int[] Shape, float[] Data)
{
    public static long Count(IReadOnlyList<int> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public string ShapeText => "[" + string.Join("x", Shape) + "]";
}

using Reid.Core;
using Reid.Onnx;
using Reid.Onnx.Proto;

namespace Reid.Inference.Profiling;

/// <summary>Multiply-adds of one operator node.</summary>
public sealed record NodeCost(string Name, string OpType, long MultiplyAdds);

/// <summary>The dense arithmetic of a model for one image: multiply-adds of every Conv, Gemm and MatMul.</summary>
public sealed record ModelCost(long MultiplyAdds, IReadOnlyList<NodeCost> Nodes)
{
    /// <summary>FLOPs counting a multiply-add as two (the usual convention; papers quoting "FLOPs" often mean MACs).</summary>
    public long Flops => 2 * MultiplyAdds;
}

/// <summary>
/// Counts a model's multiply-adds from real tensor shapes: every Conv/Gemm/MatMul operand and result is exposed
/// as an extra graph output, the model runs once on a zero batch of one, and the costs are read off the shapes
/// (Conv: output elements × weight elements per output channel; Gemm/MatMul: output elements × K). Elementwise
/// ops, pooling and normalisation are not counted: they are a few percent of a CNN's arithmetic.
/// </summary>
public static class ModelFlops
{
    private static readonly HashSet<string> Counted = ["Conv", "Gemm", "MatMul"];

    public static ModelCost Measure(string modelPath, int height, int width)
    {
        var model = OnnxModelFile.Load(modelPath);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name, t => t.Dims.ToArray());
        var inputName = graph.Input.Select(i => i.Name).First(n => !initializers.ContainsKey(n));
        long[] inputShape = [1, 3, height, width];

        var nodes = graph.Node.Where(n => Counted.Contains(n.OpType)).ToList();
        var wanted = nodes.SelectMany(n => n.Input.Take(2).Append(n.Output[0]))
            .Where(n => n.Length > 0 && !initializers.ContainsKey(n) && n != inputName).Distinct().ToList();
        var existing = graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in wanted.Where(n => !existing.Contains(n)))
            graph.Output.Add(new ValueInfoProto { Name = name });   // type left for ORT to infer

        Dictionary<string, long[]> shapes;
        // No graph optimisation: fused or folded nodes would lose the names we ask for.
        using (var session = InferenceSession.FromBytes(Google.Protobuf.MessageExtensions.ToByteArray(model), modelPath,
                   new SessionOptions(Optimization: GraphOptimization.None)))
        {
            var outputs = session.Run([new NamedInput(session.Inputs[0].Name, new float[3 * height * width], inputShape)], wanted);
            shapes = outputs.ToDictionary(o => o.Name, o => o.Shape);
        }
        shapes[inputName] = inputShape;
        foreach (var (k, v) in initializers) shapes[k] = v;

        long[] Shape(string name) => shapes.TryGetValue(name, out var s) ? s
            : throw new ReidException($"{modelPath}: no shape for tensor '{name}' while counting FLOPs");
        static long Product(IEnumerable<long> dims) => dims.Aggregate(1L, (a, d) => a * d);

        var costs = new List<NodeCost>();
        foreach (var n in nodes)
        {
            var output = Product(Shape(n.Output[0]));
            long k = n.OpType switch
            {
                "Conv" => Product(Shape(n.Input[1]).Skip(1)),   // (Cin/group) * kH * kW
                "Gemm" => n.Attribute.FirstOrDefault(a => a.Name == "transA")?.I == 1 ? Shape(n.Input[0])[0] : Shape(n.Input[0])[^1],
                _ => Shape(n.Input[0])[^1],
            };
            costs.Add(new NodeCost(n.Name, n.OpType, output * k));
        }
        return new ModelCost(costs.Sum(c => c.MultiplyAdds), costs);
    }
}

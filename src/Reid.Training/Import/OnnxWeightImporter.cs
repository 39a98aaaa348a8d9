using System.Runtime.InteropServices;
using Reid.Core;
using Reid.Engine.Autograd;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;
using Reid.Onnx;
using Reid.Onnx.Proto;
using Tensor = Reid.Engine.Tensors.Tensor;

namespace Reid.Training.Import;

/// <summary>
/// What an import did: how many tensors were copied and which BN layers took folded conv biases (those start as
/// identities and should be calibrated with <see cref="FoldedBatchNormCalibrator"/> before training).
/// </summary>
/// <param name="GeMKeptInitial">GeM poolings the ONNX model had no exponent for (it pooled by averaging): they start at their initial exponent.</param>
public sealed record ImportReport(int TensorsCopied, int Layers, IReadOnlyList<BatchNorm> FoldedLayers, int GeMKeptInitial = 0)
{
    public int FoldedBatchNorms => FoldedLayers.Count;
}

/// <summary>
/// Copies the weights of an ONNX model into a matching definition built from the engine's layers, for
/// fine-tuning. The two graphs are aligned op by op: the model is traced once in evaluation mode and each op
/// that first uses a parameter (Conv, BatchNormalization, Gemm) is paired, in execution order, with the next
/// ONNX node that first uses an initializer; types and shapes must agree. Names need not match, which is what
/// makes third-party exports importable: PyTorch's exporter folds BatchNorm into the preceding Conv and
/// renames the folded weights (e.g. <c>onnx::Conv_1047</c>). A folded Conv (bias, where the model has a
/// bias-free Conv followed by BatchNorm) is imported as that Conv's weight plus an identity BatchNorm whose
/// shift is the folded bias (γ = 1, β = b, mean = 0, var = 1 − ε), which reproduces the ONNX output exactly in
/// evaluation mode and trains on from there.
/// </summary>
public static class OnnxWeightImporter
{
    /// <summary>ONNX ops that carry no weights and that the exported graphs of supported architectures use.</summary>
    private static readonly HashSet<string> Supported = new(StringComparer.Ordinal)
    {
        "Conv", "BatchNormalization", "Gemm", "MatMul", "Relu", "Clip", "Sigmoid", "LeakyRelu", "HardSwish", "MaxPool",
        "AveragePool", "GlobalAveragePool", "Add", "Sub", "Mul", "Div", "Pow", "Reciprocal", "Concat", "Flatten", "Reshape",
        "Shape", "Gather", "Unsqueeze", "Squeeze", "Identity", "Dropout", "LpNormalization", "Softmax", "LogSoftmax",
        "Transpose", "Constant", "Slice", "ReduceMean",
    };

    public static ImportReport Import(string onnxPath, Module model)
    {
        var proto = OnnxModelFile.Load(onnxPath);
        if (proto.Graph is null || proto.Graph.Node.Count == 0) throw new ReidException($"{onnxPath}: the ONNX model has no graph");
        return Import(proto, model, onnxPath);
    }

    public static ImportReport Import(ModelProto proto, Module model, string source)
    {
        var graph = proto.Graph;
        foreach (var n in graph.Node)
            if (!Supported.Contains(n.OpType) || !(string.IsNullOrEmpty(n.Domain) || n.Domain == "ai.onnx"))
                throw new ReidException($"{source}: ONNX op '{n.OpType}' (node '{n.Name}') is not supported for weight import");
        var (height, width) = InputSize(graph, source);

        var weights = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var onnxLayers = WeightedNodes(graph, weights);
        var ourLayers = TraceLayers(model, height, width);

        var copies = new List<(Tensor Target, float[] Values, string What)>();
        int i = 0, gemKept = 0;
        foreach (var layer in ourLayers)
        {
            if (layer.FoldedInto is not null) continue;   // a BN already fed by the folded Conv before it
            // A model exported with average pooling has no weights where ours has GeM: the exponent keeps its initial value.
            if (layer.Op == "GeM" && (i >= onnxLayers.Count || onnxLayers[i].OpType != OnnxOpOf(layer.Op))) { gemKept++; continue; }
            if (i >= onnxLayers.Count)
                throw new ReidException($"{source}: the ONNX graph ends before the model's layer '{layer.Name}' ({layer.Op})");
            var node = onnxLayers[i++];
            if (node.OpType != OnnxOpOf(layer.Op))
                throw new ReidException($"{source}: ONNX node '{node.Name}' ({node.OpType}) does not line up with the model's layer '{layer.Name}' ({layer.Op}); is this the same architecture?");
            var given = node.Input.Skip(1).Where(weights.ContainsKey).Select(n => weights[n]).ToList();
            switch (layer.Op)
            {
                case "Conv" or "Gemm":
                {
                    Copy(layer.Params[0], given[0], layer.Name + ".weight", node, source, copies);
                    var bias = given.Count > 1 ? given[1] : null;
                    if (layer.Params.Count > 1)
                    {
                        if (bias is null) copies.Add((layer.Params[1], new float[layer.Params[1].Count], layer.Name + ".bias"));
                        else Copy(layer.Params[1], bias, layer.Name + ".bias", node, source, copies);
                    }
                    else if (bias is not null)
                    {
                        var bn = layer.FollowedBy ?? throw new ReidException(
                            $"{source}: ONNX node '{node.Name}' has a bias but the model's layer '{layer.Name}' has none and no BatchNorm follows it");
                        var b = Values(bias, node, source);
                        if (b.Length != bn.Params[0].Count)
                            throw new ReidException($"{source}: ONNX tensor '{bias.Name}' has {b.Length} values, the model's '{bn.Name}' has {bn.Params[0].Count} channels");
                        var eps = bn.Eps;
                        copies.Add((bn.Params[0], Enumerable.Repeat(1f, b.Length).ToArray(), bn.Name + ".weight"));
                        copies.Add((bn.Params[1], b, bn.Name + ".bias"));
                        copies.Add((bn.Params[2], new float[b.Length], bn.Name + ".running_mean"));
                        copies.Add((bn.Params[3], Enumerable.Repeat(1f - eps, b.Length).ToArray(), bn.Name + ".running_var"));
                        bn.FoldedInto = layer;
                    }
                    break;
                }
                case "GeM":
                    Copy(layer.Params[0], given[0], layer.Name + ".p", node, source, copies);
                    break;
                case "BatchNormalization":
                    if (given.Count != 4) throw new ReidException($"{source}: ONNX node '{node.Name}' does not hold four BatchNorm tensors");
                    string[] parts = ["weight", "bias", "running_mean", "running_var"];
                    for (int k = 0; k < 4; k++) Copy(layer.Params[k], given[k], $"{layer.Name}.{parts[k]}", node, source, copies);
                    break;
            }
        }
        if (i < onnxLayers.Count)
            throw new ReidException($"{source}: ONNX node '{onnxLayers[i].Name}' ({onnxLayers[i].OpType}) has weights the model has no layer for");

        // Only now, with everything checked, touch the model.
        foreach (var (target, values, _) in copies) values.CopyTo(target.Data);
        var byWeight = model.NamedModules().Select(m => m.Module).OfType<BatchNorm>()
            .ToDictionary<BatchNorm, Tensor, BatchNorm>(bn => bn.Weight, bn => bn, ReferenceEqualityComparer.Instance);
        var foldedLayers = ourLayers.Where(l => l.FoldedInto is not null).Select(l => byWeight[l.Params[0]]).ToList();
        return new ImportReport(copies.Count, ourLayers.Count, foldedLayers, gemKept);
    }

    /// <summary>The ONNX node that carries a traced op's weights (GeM's exponent sits in its first Pow).</summary>
    private static string OnnxOpOf(string tracedOp) => tracedOp == "GeM" ? "Pow" : tracedOp;

    private sealed class Layer(string op, string name, List<Tensor> parameters, Tensor output, float eps)
    {
        public string Op { get; } = op;
        public string Name { get; } = name;
        public List<Tensor> Params { get; } = parameters;
        public Tensor Output { get; } = output;
        public float Eps { get; } = eps;
        public Layer? FollowedBy { get; set; }
        public Layer? FoldedInto { get; set; }
    }

    /// <summary>The model's weighted ops in execution order (first use of each parameter; a shared module counts once).</summary>
    private static List<Layer> TraceLayers(Module model, int height, int width)
    {
        var owner = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in model.NamedParameters()) owner[p] = name;
        foreach (var (name, b) in model.NamedBuffers()) owner[b] = name;
        var wasTraining = model.IsTraining;
        model.Eval();
        var layers = new List<Layer>();
        try
        {
            using var scope = new TensorScope();
            using var noGrad = Tape.NoGrad();
            using var trace = new OpTrace();
            model.Forward(Tensor.Zeros(1, 3, height, width));
            var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
            var byOutput = new Dictionary<Tensor, Layer>(ReferenceEqualityComparer.Instance);
            foreach (var op in trace.Ops)
            {
                var owned = op.Inputs.Where(owner.ContainsKey).ToList();
                if (owned.Count == 0 || !owned.Any(seen.Add)) continue;
                foreach (var t in owned) seen.Add(t);
                if (op.Op is not ("Conv" or "Gemm" or "BatchNormalization" or "GeM"))
                    throw new ReidException($"import: the model's op {op.Op} on '{owner[owned[0]]}' has weights the importer cannot map");
                var name = owner[owned[0]];
                name = name[..name.LastIndexOf('.')];
                var eps = op.Attributes.TryGetValue("epsilon", out var e) ? Convert.ToSingle(e, System.Globalization.CultureInfo.InvariantCulture) : 0f;
                var layer = new Layer(op.Op, name, owned, op.Output, eps);
                if (op.Op == "BatchNormalization" && byOutput.TryGetValue(op.Inputs[0], out var conv) && conv.Op == "Conv")
                    conv.FollowedBy = layer;
                byOutput[op.Output] = layer;
                layers.Add(layer);
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
        return layers;
    }

    /// <summary>ONNX nodes that first use a float initializer of rank ≥ 1 as a weight input, in graph order.</summary>
    private static List<NodeProto> WeightedNodes(GraphProto graph, Dictionary<string, TensorProto> weights)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var list = new List<NodeProto>();
        foreach (var n in graph.Node)
        {
            if (n.OpType is not ("Conv" or "Gemm" or "BatchNormalization" or "MatMul" or "Pow")) continue;
            var fresh = false;
            foreach (var name in n.Input.Skip(1))
                if (weights.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float && seen.Add(name)) fresh = true;
            if (fresh) list.Add(n);
        }
        return list;
    }

    private static (int Height, int Width) InputSize(GraphProto graph, string source)
    {
        var initializers = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var input = graph.Input.FirstOrDefault(i => !initializers.Contains(i.Name))
            ?? throw new ReidException($"{source}: the ONNX graph has no input");
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 4 || dims[2].DimValue <= 0 || dims[3].DimValue <= 0)
            return (256, 128);   // dynamic spatial size: the ReID default
        return ((int)dims[2].DimValue, (int)dims[3].DimValue);
    }

    private static void Copy(Tensor target, TensorProto source, string name, NodeProto node, string file,
        List<(Tensor, float[], string)> copies)
    {
        var dims = source.Dims.Select(d => (int)d).ToArray();
        if (!dims.AsSpan().SequenceEqual(target.Shape))
            throw new ReidException($"{file}: ONNX tensor '{source.Name}' (node '{node.Name}') has shape [{string.Join("x", dims)}], the model's '{name}' is [{string.Join("x", target.ShapeArray())}]");
        copies.Add((target, Values(source, node, file), name));
    }

    private static float[] Values(TensorProto t, NodeProto node, string file)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw new ReidException($"{file}: ONNX tensor '{t.Name}' (node '{node.Name}') is not float32");
        long count = 1;
        foreach (var d in t.Dims) count *= d;
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw new ReidException($"{file}: ONNX tensor '{t.Name}' keeps its data in an external file, which is not supported");
        float[] values;
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * sizeof(float))
                throw new ReidException($"{file}: ONNX tensor '{t.Name}' holds {t.RawData.Length} bytes for {count} floats (truncated?)");
            values = MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        }
        else values = t.FloatData.ToArray();
        if (values.Length != count)
            throw new ReidException($"{file}: ONNX tensor '{t.Name}' holds {values.Length} values for {count} elements");
        return values;
    }
}

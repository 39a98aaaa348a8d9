using Google.Protobuf;
using Reid.Onnx.Proto;

namespace Reid.Onnx;

/// <summary>
/// Writes ONNX models from C#: typed inputs and outputs (fixed or symbolic dims), float initializers, nodes with
/// attributes, opset imports and metadata_props. Used by the training engine's exporter and by tests that need
/// tiny graphs.
/// </summary>
/// <example><code>
/// var b = new OnnxGraphBuilder("scale", opset: 17);
/// b.Input("x", TensorElementType.Float, "batch", 3);
/// b.Initializer("k", [2f, 2f, 2f], 3);
/// b.Node("Mul", ["x", "k"], ["y"]);
/// b.Output("y", TensorElementType.Float, "batch", 3);
/// File.WriteAllBytes("scale.onnx", b.ToBytes());
/// </code></example>
public sealed class OnnxGraphBuilder
{
    /// <summary>IR version 8 (ONNX 1.10+): read by every ONNX Runtime from 1.10 on.</summary>
    public const long DefaultIrVersion = 8;

    private readonly ModelProto _model;
    private readonly GraphProto _graph;
    private int _autoName;

    public OnnxGraphBuilder(string graphName, int opset = 17, string producer = "reid")
    {
        _graph = new GraphProto { Name = graphName };
        _model = new ModelProto { IrVersion = DefaultIrVersion, ProducerName = producer, Graph = _graph };
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
    }

    public OnnxGraphBuilder IrVersion(long version) { _model.IrVersion = version; return this; }

    public OnnxGraphBuilder OpsetImport(string domain, long version)
    {
        var existing = _model.OpsetImport.FirstOrDefault(o => o.Domain == domain);
        if (existing is not null) existing.Version = version;
        else _model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        return this;
    }

    public OnnxGraphBuilder Input(string name, TensorElementType type, params Dim[] dims)
    {
        _graph.Input.Add(ValueInfo(name, type, dims));
        return this;
    }

    public OnnxGraphBuilder Output(string name, TensorElementType type, params Dim[] dims)
    {
        _graph.Output.Add(ValueInfo(name, type, dims));
        return this;
    }

    /// <summary>A float constant tensor with the given shape (row-major data).</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var count = dims.Aggregate(1L, (a, d) => a * d);
        if (count != data.Length) throw new ArgumentException($"initializer {name}: {data.Length} values for shape [{string.Join(",", dims)}]");
        var t = new TensorProto { Name = name, DataType = (int)TensorElementType.Float, RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data)) };
        t.Dims.Add(dims);
        _graph.Initializer.Add(t);
        return this;
    }

    /// <summary>An int64 constant tensor (shapes for Reshape, axes, pads).</summary>
    public OnnxGraphBuilder Initializer(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorElementType.Int64 };
        t.Dims.Add(dims);
        foreach (var v in data) t.Int64Data.Add(v);
        _graph.Initializer.Add(t);
        return this;
    }

    /// <summary>Adds a node; chain <see cref="OnnxNode.Attr(string, long)"/> and friends for its attributes.</summary>
    public OnnxNode Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string? name = null, string domain = "")
    {
        var node = new NodeProto { OpType = opType, Name = name ?? $"{opType}_{_autoName++}", Domain = domain };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        _graph.Node.Add(node);
        return new OnnxNode(node);
    }

    /// <summary>A model-level key/value (ONNX metadata_props), readable through ONNX Runtime's custom metadata map.</summary>
    public OnnxGraphBuilder Metadata(string key, string value)
    {
        var existing = _model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null) existing.Value = value;
        else _model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return this;
    }

    public OnnxGraphBuilder DocString(string text) { _model.DocString = text; return this; }

    /// <summary>The model as built so far (a live object: later calls still change it).</summary>
    public ModelProto Model => _model;

    public byte[] ToBytes() => _model.ToByteArray();

    public void Save(string path) => File.WriteAllBytes(path, ToBytes());

    private static ValueInfoProto ValueInfo(string name, TensorElementType type, Dim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d.Value is { } v ? new TensorShapeProto.Types.Dimension { DimValue = v }
                                           : new TensorShapeProto.Types.Dimension { DimParam = d.Symbol ?? "" });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}

/// <summary>A node being built: add attributes by chaining.</summary>
public sealed class OnnxNode
{
    public NodeProto Proto { get; }
    internal OnnxNode(NodeProto proto) => Proto = proto;

    private OnnxNode Add(AttributeProto a) { Proto.Attribute.Add(a); return this; }

    public OnnxNode Attr(string name, long value) => Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value });
    public OnnxNode Attr(string name, float value) => Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
    public OnnxNode Attr(string name, string value) => Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) });

    public OnnxNode Attr(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(values);
        return Add(a);
    }

    public OnnxNode Attr(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.Add(values);
        return Add(a);
    }

    public OnnxNode Attr(string name, TensorProto value) => Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value });
}

/// <summary>Reading ONNX files with clear errors.</summary>
public static class OnnxModelFile
{
    public static ModelProto Load(string path)
    {
        if (!File.Exists(path)) throw new Reid.Core.ReidException($"{path}: ONNX model not found");
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new Reid.Core.ReidException($"{path}: not a valid ONNX model ({e.Message})", e);
        }
    }
}

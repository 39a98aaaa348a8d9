namespace Reid.Onnx;

/// <summary>Tensor element types with ONNX's numbering (TensorProto.DataType), which ONNX Runtime shares.</summary>
public enum TensorElementType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
}

/// <summary>One dimension of a graph input or output: a fixed size or a symbolic name (e.g. "batch").</summary>
public readonly record struct Dim(long? Value, string? Symbol)
{
    public static Dim Fixed(long value) => new(value, null);
    public static Dim Symbolic(string name) => new(null, name);
    public static implicit operator Dim(long value) => Fixed(value);
    public static implicit operator Dim(int value) => Fixed(value);
    public static implicit operator Dim(string name) => Symbolic(name);
    public override string ToString() => Value?.ToString() ?? Symbol ?? "?";
}

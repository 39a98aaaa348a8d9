using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Tensors;

namespace Reid.Engine.Optim;

/// <summary>A module's parameters as the optimisers see them, under their dotted names.</summary>
public static class ModelParameters
{
    public static IReadOnlyList<ITrainable> Of(Module model) =>
        model.NamedParameters().Select(p => (ITrainable)new Trainable(p.Name, p.Parameter)).ToList();

    private sealed class Trainable(string name, Parameter parameter) : ITrainable
    {
        public string Name { get; } = name;
        public IReadOnlyList<int> Shape { get; } = parameter.ShapeArray();
        public bool WeightDecay => parameter.WeightDecay;
        public Span<float> Value => parameter.Data;
        public Span<float> Gradient => parameter.Grad is { } g ? g.Data : default;
    }
}

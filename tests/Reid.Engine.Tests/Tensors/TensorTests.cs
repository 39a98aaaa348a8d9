using Reid.Core;
using Reid.Engine.Functional;
using Reid.Engine.Modules;
using Reid.Engine.Native;
using Reid.Engine.Tensors;

namespace Reid.Engine.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void FromArray_checks_the_shape()
    {
        var e = Assert.Throws<ReidException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2));
        Assert.Contains("[2, 2]", e.Message);
        using var t = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        Assert.Equal(4, t.Count);
        Assert.Equal(2, t.Dim(-1));
    }

    [Fact]
    public void Reshape_shares_storage_and_infers_one_axis()
    {
        using var t = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        using var r = t.Reshape(3, -1);
        Assert.Equal([3, 2], r.ShapeArray());
        t.Data[0] = 42;
        Assert.Equal(42, r.Data[0]);
        t.Dispose();
        Assert.Equal(42, r.Data[0]);    // the view keeps the buffer alive
    }

    [Fact]
    public void Pool_reuses_buffers_of_the_same_size()
    {
        using (var warm = Tensor.Empty(1234, 7)) { }
        var before = TensorPool.BytesCached;
        var a = Tensor.Empty(1234, 7);
        Assert.True(TensorPool.BytesCached < before || before == 0);
        a.Dispose();
        Assert.True(TensorPool.BytesCached >= 1234 * 7 * 4);
    }

    [Fact]
    public void Scope_disposes_tensors_except_kept_ones_and_parameters()
    {
        Tensor inner, kept;
        Parameter p;
        using (var scope = new TensorScope())
        {
            inner = Tensor.Ones(3);
            kept = scope.Keep(Tensor.Ones(3));
            p = Parameter.From(inner, "w");
        }
        Assert.True(inner.IsReleased);
        Assert.False(kept.IsReleased);
        Assert.False(p.IsReleased);
    }

    [Fact]
    public void Rng_state_round_trips()
    {
        var a = new Rng(5);
        a.NextUInt64();
        var state = a.State;
        var x = a.NextDouble();
        var b = new Rng(0) { State = state };
        Assert.Equal(x, b.NextDouble());
    }
}

public class NativeTests
{
    [Fact]
    public void OneDnn_2x_is_loaded()
    {
        Assert.StartsWith("2.", EngineInfo.OneDnnVersion);
    }

    [Fact]
    public void Other_major_versions_are_refused_with_install_advice()
    {
        var e = Assert.Throws<ReidException>(() => DnnlRuntime.CheckVersion(3, "3.1.0"));
        Assert.Contains("libdnnl2", e.Message);
        Assert.Contains("3.1.0", e.Message);
    }

    [Fact]
    public void Execute_time_is_counted()
    {
        var before = EngineInfo.OneDnnCalls;
        using var x = Tensor.Ones(2, 4, 6, 6);
        using var w = Tensor.Ones(4, 4, 3, 3);
        using var y = Ops.Conv2d(x, w, null, ConvSpec.Square(1, 1));
        Assert.True(EngineInfo.OneDnnCalls > before);
        Assert.True(EngineInfo.OneDnnTicks > 0);
        Assert.True(EngineInfo.CachedPrimitives > 0);
    }
}

namespace Reid.Engine.Optim;

/// <summary>Builds the usual ReID parameter groups.</summary>
public static class ParameterGroups
{
    /// <summary>
    /// Splits parameters into up to four groups: backbone vs head (names starting with one of
    /// <paramref name="headPrefixes"/>, each with its own learning rate), and within each, decayed weights vs
    /// parameters flagged <see cref="ITrainable.WeightDecay"/> false (biases, BN/BNNeck affine parameters).
    /// </summary>
    public static IReadOnlyList<ParameterGroup> Build(IEnumerable<ITrainable> parameters, double backboneLr, double headLr,
        double weightDecay, IReadOnlyList<string> headPrefixes)
    {
        var all = parameters.ToList();
        if (all.Count == 0) throw new ArgumentException("no parameters to optimise");
        bool IsHead(ITrainable p) => headPrefixes.Any(h => p.Name.StartsWith(h, StringComparison.Ordinal));
        static bool Decays(ITrainable p) => p.WeightDecay;
        var groups = new List<ParameterGroup>();
        void Add(string name, Func<ITrainable, bool> pick, double lr, double wd)
        {
            var ps = all.Where(pick).ToList();
            if (ps.Count > 0) groups.Add(new ParameterGroup(name, ps, lr, wd));
        }
        Add("backbone", p => !IsHead(p) && Decays(p), backboneLr, weightDecay);
        Add("backbone-no-decay", p => !IsHead(p) && !Decays(p), backboneLr, 0);
        Add("head", p => IsHead(p) && Decays(p), headLr, weightDecay);
        Add("head-no-decay", p => IsHead(p) && !Decays(p), headLr, 0);
        return groups;
    }
}

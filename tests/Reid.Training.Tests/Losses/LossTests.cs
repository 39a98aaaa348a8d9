using Reid.Training.Losses;

namespace Reid.Training.Tests.Losses;

public sealed class LossTests
{
    private const double H = 1e-3;

    /// <summary>Central differences of f at every coordinate of x, compared with the analytic gradient.</summary>
    private static void AssertGradient(float[] x, float[] analytic, Func<float[], double> f, string what)
    {
        Assert.Equal(x.Length, analytic.Length);
        for (var i = 0; i < x.Length; i++)
        {
            var keep = x[i];
            x[i] = keep + (float)H; var up = f(x);
            x[i] = keep - (float)H; var down = f(x);
            x[i] = keep;
            var numeric = (up - down) / (2 * H);
            var tol = 2e-3 + 2e-2 * Math.Abs(numeric);
            Assert.True(Math.Abs(numeric - analytic[i]) <= tol,
                $"{what}[{i}]: analytic {analytic[i]:G6} vs finite difference {numeric:G6}");
        }
    }

    private static float[] Random(int count, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    [Fact]
    public void Feature_distillation_is_zero_for_the_teachers_own_directions_and_its_gradient_matches_finite_differences()
    {
        const int n = 3, d = 4;
        var teacher = Random(n * d, 7, 2);
        // the same directions at another length cost nothing and pull nowhere
        var scaled = teacher.Select(v => v * 3f).ToArray();
        var g = new float[n * d];
        Assert.Equal(0, DistillationLoss.Feature(scaled, teacher, n, d, g), 6);
        Assert.All(g, v => Assert.Equal(0, v, 5));
        // opposite directions cost the maximum, 2
        Assert.Equal(2, DistillationLoss.Feature(teacher.Select(v => -v).ToArray(), teacher, n, d, g), 6);

        var student = Random(n * d, 8, 2);
        DistillationLoss.Feature(student, teacher, n, d, g);
        AssertGradient(student, g, v => DistillationLoss.Feature(v, teacher, n, d, default), "dKD/ds");
    }

    [Fact]
    public void Similarity_distillation_ignores_rotations_works_across_widths_and_its_gradient_matches_finite_differences()
    {
        const int n = 4;
        var teacher = Random(n * 3, 9, 2);
        // the student holds the teacher's vectors rotated in the plane of their first two coordinates, in 5 dimensions:
        // every pairwise cosine is the same, so there is nothing to learn
        var (c, s) = (MathF.Cos(0.7f), MathF.Sin(0.7f));
        var student = new float[n * 5];
        for (var i = 0; i < n; i++)
        {
            var (a, b, z) = (teacher[i * 3], teacher[i * 3 + 1], teacher[i * 3 + 2]);
            student[i * 5] = c * a - s * b; student[i * 5 + 1] = s * a + c * b; student[i * 5 + 2] = z;
        }
        var g = new float[n * 5];
        Assert.Equal(0, DistillationLoss.Similarity(student, 5, teacher, 3, n, g), 6);
        Assert.All(g, v => Assert.Equal(0, v, 5));

        var other = Random(n * 5, 10, 2);
        Assert.True(DistillationLoss.Similarity(other, 5, teacher, 3, n, g) > 0.01);
        AssertGradient(other, g, v => DistillationLoss.Similarity(v, 5, teacher, 3, n, default), "dKD/ds");
    }

    [Fact]
    public void Cross_entropy_matches_hand_values_with_and_without_smoothing()
    {
        float[] logits = [1, 2, 3];
        var grad = new float[3];
        // log(e + e² + e³) - 3
        Assert.Equal(0.4076059644, CrossEntropyLoss.Forward(logits, 1, 3, [2], 0, grad, out var correct), 6);
        Assert.Equal(1, correct);
        Assert.Equal(0.0900305732, grad[0], 6);
        Assert.Equal(0.2447284711, grad[1], 6);
        Assert.Equal(0.6652409558 - 1, grad[2], 6);
        // ε = 0.1: targets 0.1/3 off and 0.9 + 0.1/3 on, loss = logZ - Σ q z = 3.4076059644 - 2.9
        Assert.Equal(0.5076059644, CrossEntropyLoss.Forward(logits, 1, 3, [2], 0.1, grad, out _), 6);
        Assert.Equal(0.0900305732 - 0.1 / 3, grad[0], 6);
        Assert.Equal(0.6652409558 - 0.9 - 0.1 / 3, grad[2], 6);
        // wrong arg-max: not counted as correct
        CrossEntropyLoss.Forward(logits, 1, 3, [0], 0, grad, out correct);
        Assert.Equal(0, correct);
    }

    [Fact]
    public void Cross_entropy_gradient_matches_finite_differences()
    {
        const int n = 4, c = 5;
        var x = Random(n * c, 1, 3);
        int[] y = [0, 3, 4, 3];
        var g = new float[n * c];
        CrossEntropyLoss.Forward(x, n, c, y, 0.1, g, out _);
        AssertGradient(x, g, v => CrossEntropyLoss.Forward(v, n, c, y, 0.1, default, out _), "dCE/dlogits");
    }

    [Fact]
    public void Cross_entropy_rejects_labels_out_of_range()
    {
        Assert.Throws<ArgumentException>(() => CrossEntropyLoss.Forward(new float[6], 2, 3, [0, 3], 0, default, out _));
    }

    [Fact]
    public void Batch_hard_triplet_matches_hand_values()
    {
        // points on a line: identity 0 at 0 and 2, identity 1 at 3 and 4
        float[] x = [0, 2, 3, 4];
        int[] y = [0, 0, 1, 1];
        var g = new float[4];
        // hinge terms: a0 2-3+.3<0, a1 2-1+.3=1.3, a2 1-1+.3=.3, a3 1-2+.3<0
        var s = TripletLoss.BatchHard(x, 4, 1, y, 0.3, false, g);
        Assert.Equal(0.4, s.Loss, 6);
        Assert.Equal(4, s.Anchors);
        Assert.Equal(0.5, s.ActiveFraction, 6);
        Assert.Equal(1.5, s.MeanPositive, 6);
        Assert.Equal(1.75, s.MeanNegative, 6);
        Assert.Equal([-0.25f, 0.75f, -0.75f, 0.25f], g);

        // soft margin: mean of log(1 + e^z) for z = -1, 1, 0, -1
        s = TripletLoss.BatchHard(x, 4, 1, y, 0.3, true, g);
        var expected = (2 * Math.Log(1 + Math.Exp(-1)) + Math.Log(1 + Math.E) + Math.Log(2)) / 4;
        Assert.Equal(expected, s.Loss, 6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_hard_triplet_gradient_matches_finite_differences(bool soft)
    {
        const int n = 8, d = 6;
        var x = Random(n * d, 2);
        int[] y = [0, 0, 1, 1, 2, 2, 3, 3];
        var g = new float[n * d];
        var s = TripletLoss.BatchHard(x, n, d, y, 1.0, soft, g);
        Assert.True(s.Loss > 0);
        Assert.Contains(g, v => v != 0);
        AssertGradient(x, g, v => TripletLoss.BatchHard(v, n, d, y, 1.0, soft, default).Loss, "dTriplet/dx");
    }

    [Fact]
    public void Batch_hard_triplet_skips_anchors_without_a_positive_and_survives_duplicate_images()
    {
        // image 0 drawn twice (identity with fewer than K images): distance 0, no NaN
        float[] x = [1, 1, 1, 1, 5, 5];
        int[] y = [0, 0, 1];
        var g = new float[6];
        var s = TripletLoss.BatchHard(x, 3, 2, y, 0.3, false, g);
        Assert.Equal(2, s.Anchors); // the lone identity-1 image has no positive
        Assert.Equal(0, s.Loss, 9);
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void ArcFace_matches_the_closed_form()
    {
        // feature at angle 0.3 (norm 2) against class weights along the axes (norms 1 and 3)
        float[] x = [(float)(2 * Math.Cos(0.3)), (float)(2 * Math.Sin(0.3))];
        float[] w = [1, 0, 0, 3];
        const double m = 0.5, s = 4;
        var loss = ArcFaceLoss.Forward(x, 1, 2, w, 2, [0], m, s, new float[2], new float[4], out var correct);
        var zTrue = s * Math.Cos(0.3 + m);
        var zOther = s * Math.Sin(0.3);
        Assert.Equal(Math.Log(Math.Exp(zTrue) + Math.Exp(zOther)) - zTrue, loss, 5);
        Assert.Equal(1, correct);

        // with margin 0 ArcFace is cross-entropy on s·cos θ
        var plain = ArcFaceLoss.Forward(x, 1, 2, w, 2, [1], 0, s, new float[2], new float[4], out correct);
        var ce = CrossEntropyLoss.Forward([(float)(s * Math.Cos(0.3)), (float)zOther], 1, 2, [1], 0, default, out _);
        Assert.Equal(ce, plain, 5);
        Assert.Equal(0, correct);
    }

    [Fact]
    public void ArcFace_gradients_match_finite_differences_for_features_and_weights()
    {
        const int n = 5, d = 4, c = 3;
        var x = Random(n * d, 3);
        var w = Random(c * d, 4);
        int[] y = [0, 1, 2, 1, 0];
        var gx = new float[n * d];
        var gw = new float[c * d];
        ArcFaceLoss.Forward(x, n, d, w, c, y, 0.5, 8, gx, gw, out _);
        AssertGradient(x, gx, v => ArcFaceLoss.Forward(v, n, d, w, c, y, 0.5, 8, default, default, out _), "dArcFace/dx");
        AssertGradient(w, gw, v => ArcFaceLoss.Forward(x, n, d, v, c, y, 0.5, 8, default, default, out _), "dArcFace/dW");
    }

    [Fact]
    public void Center_loss_matches_hand_values_and_moves_centres_by_the_papers_rule()
    {
        var centers = new float[4]; // 2 classes x 2
        float[] x = [1, 2, 3, 4];
        var g = new float[4];
        Assert.Equal(7.5, CenterLoss.Forward(x, 2, 2, centers, [0, 0], g), 9); // (1 + 4 + 9 + 16) / (2·2)
        Assert.Equal([0.5f, 1f, 1.5f, 2f], g);
        CenterLoss.UpdateCenters(x, 2, 2, centers, [0, 0], 0.5);
        // Δc = Σ(c - x) / (1 + 2) = (-4/3, -2); c ← 0 - 0.5 Δc
        Assert.Equal(2.0 / 3, centers[0], 6);
        Assert.Equal(1.0, centers[1], 6);
        Assert.Equal([0f, 0f], centers[2..]); // class 1 absent from the batch: untouched
    }

    [Fact]
    public void Center_loss_gradient_matches_finite_differences()
    {
        var centers = Random(12, 5); // 3 classes x 4
        var x = Random(5 * 4, 6);
        int[] y = [0, 2, 2, 1, 0];
        var g = new float[20];
        CenterLoss.Forward(x, 5, 4, centers, y, g);
        AssertGradient(x, g, v => CenterLoss.Forward(v, 5, 4, centers, y, default), "dCenter/dx");
    }
}

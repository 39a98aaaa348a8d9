using Reid.Data;
using Reid.Evaluation;

namespace Reid.Foundation.Tests.Evaluation;

public class OpenSetTests
{
    [Fact]
    public void Fpir_counts_strangers_reaching_the_threshold_and_dir_only_enrolled_people_found_as_themselves()
    {
        // two strangers (best scores 0.3 and 0.6); two enrolled probes, one found as itself (0.9), one as somebody else (0.8)
        var r = new OpenSetResult(2, [0.3f, 0.6f], [(0.9f, true), (0.8f, false)]);
        var at = r.At(0.5);
        Assert.Equal((0.5, 0.5, 1L, 1L), (at.Fpir, at.Dir, at.FalsePositives, at.Detected));
        Assert.Equal((1.0, 0.5), (r.At(0.1).Fpir, r.At(0.1).Dir));   // a wrong top-1 never counts, however low the threshold
        var strict = r.AtFpir(0)!.Value;
        Assert.Equal(0, strict.Fpir);
        Assert.Equal(0.5, strict.Dir);
        Assert.True(strict.Threshold > 0.6 && strict.Threshold < 0.6000001);
        Assert.Equal(0.5, r.AtFpir(0.5)!.Value.Fpir);
        Assert.Equal([0, 0.5, 1.0], r.Curve().Select(p => p.Fpir));   // the threshold falling through each stranger's score
        Assert.Null(new OpenSetResult(1, [], [(1f, true)]).AtFpir(0.1));
    }

    [Fact]
    public void A_split_enrols_half_its_gallery_people_and_compares_no_same_camera_image_of_a_probes_own_person()
    {
        // four people, one-hot embeddings: a probe matches only its own person's images
        float[] Person(int p) => Enumerable.Range(0, 4).Select(i => i == p - 1 ? 1f : 0f).ToArray();
        var gallery = Enumerable.Range(1, 4).Select(p => new ImageRecord($"g{p}.jpg", p, "c2")).ToList();
        var query = Enumerable.Range(1, 4).Select(p => new ImageRecord($"q{p}.jpg", p, "c1")).ToList();
        var d = DistanceMatrix.Compute(query.Select(q => Person(q.PersonId)).ToArray(), gallery.Select(g => Person(g.PersonId)).ToArray(), DistanceKind.Cosine);
        var r = OpenSetIdentification.Compute(d, query, gallery);
        Assert.Equal(2, r.EnrolledIdentities);
        Assert.Equal((2, 2), (r.MatedProbes, r.NonMatedProbes));
        Assert.Equal((0.0, 1.0), (r.At(0.5).Fpir, r.At(0.5).Dir));
        Assert.Equal(1.0, r.At(0).Fpir);     // a stranger's best score (0) reaches a threshold of 0

        // the same people seen by the probes' own camera only: mated probes have nothing to be found by
        var sameCamera = gallery.Select(g => g with { Camera = "c1" }).ToList();
        var none = OpenSetIdentification.Compute(d, query, sameCamera);
        Assert.Equal(0, none.MatedProbes);
        Assert.Equal(2, none.NonMatedProbes);
        Assert.Throws<ArgumentOutOfRangeException>(() => OpenSetIdentification.Compute(d, query, gallery, enrolFraction: 1));
    }
}

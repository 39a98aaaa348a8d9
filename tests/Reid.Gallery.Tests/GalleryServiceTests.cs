using Reid.Core;
using Reid.Gallery;
using Reid.Imaging;
using Reid.SpatialTemporal;
using Reid.TestSupport;
using static Reid.Gallery.Tests.Fixtures;

namespace Reid.Gallery.Tests;

public class GalleryServiceTests
{
    private static GalleryService Open(TempDir dir, string model = "colour-histogram-v1") =>
        new(GalleryStore.Open(dir.Path), HistogramModel(model), new GalleryOptions(UncalibratedThreshold: 0.8));

    [Fact]
    public void Enrolled_people_are_identified_and_strangers_are_unknown()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var ids = Enumerable.Range(0, 4).Select(p => g.Enrol($"person {p}", [PersonInput(p, 0), PersonInput(p, 1)]).Identity.Id).ToArray();
        for (var p = 0; p < 4; p++)
        {
            var r = g.Identify([PersonInput(p, 7)]);
            Assert.False(r.Unknown);
            Assert.Equal(ids[p], r.Matches[0].Identity);
            Assert.Equal($"person {p}", r.Matches[0].Name);
            Assert.True(r.Matches.Zip(r.Matches.Skip(1)).All(m => m.First.Score >= m.Second.Score), "best first");
        }
        var stranger = g.Identify([PersonInput(5, 0)]);
        Assert.True(stranger.Unknown);
        Assert.Contains("uncalibrated", stranger.Threshold.Source);
    }

    [Fact]
    public void A_removed_sighting_leaves_the_running_index_of_this_service_and_of_another_on_the_same_store()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var other = Open(dir);   // the CLI beside a server, or a second server node
        // person 0's enrolment holds one crop of person 1 by mistake: it is what a probe of person 1 finds
        var anna = g.Enrol("Anna", [PersonInput(0, 0), PersonInput(0, 1), PersonInput(1, 5)]).Identity.Id;
        var wrong = g.Store.GetSightings(anna)[2].Id;
        Assert.Equal(wrong, g.Search([PersonInput(1, 6)], 1)[0].SightingId);
        Assert.Equal(wrong, other.Search([PersonInput(1, 6)], 1)[0].SightingId);

        var removed = g.DeleteSighting(wrong, "test")!;
        Assert.Equal(2, removed.SightingsLeft);
        foreach (var service in new[] { g, other })
        {
            Assert.DoesNotContain(service.Search([PersonInput(1, 6)], 10), h => h.SightingId == wrong);
            Assert.True(service.Identify([PersonInput(1, 6)]).Unknown);                 // person 1 is nobody now
            var anne = service.Identify([PersonInput(0, 7)]);                          // Anna's own crops are still found
            Assert.Equal(anna, anne.Matches[0].Identity);
            Assert.Equal(2, anne.Matches[0].Sightings);
        }
        Assert.Equal(2, g.Index.Count);
        Assert.Throws<LastSightingException>(() => { g.DeleteSighting(g.Store.GetSightings(anna)[0].Id); g.DeleteSighting(g.Store.GetSightings(anna)[0].Id); });
        Assert.Equal(1, g.Index.Count);
    }

    /// <summary>
    /// Enrol P1, enrol P2, erase P2, enrol P3, in one running service: P3 must be found at once. SQLite used to hand
    /// P3's embeddings the row numbers P2's had, below what the running index had already seen.
    /// </summary>
    [Fact]
    public void A_person_enrolled_after_the_last_one_was_erased_is_findable_without_a_restart()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var p1 = g.Enrol("P1", [PersonInput(0, 0), PersonInput(0, 1)]).Identity.Id;
        var p2 = g.Enrol("P2", [PersonInput(1, 0), PersonInput(1, 1)]).Identity.Id;
        g.Delete(p2);
        var p3 = g.Enrol("P3", [PersonInput(2, 0), PersonInput(2, 1)]).Identity.Id;
        var r = g.Identify([PersonInput(2, 0)]);
        Assert.False(r.Unknown);
        Assert.Equal(p3, r.Matches[0].Identity);
        Assert.True(g.Verify(p3, [PersonInput(2, 1)]).Match);
        Assert.Equal(p1, g.Identify([PersonInput(0, 1)]).Matches[0].Identity);

        // and a second service on the same store (the CLI beside a server) sees the same
        var other = Open(dir);
        var p4 = g.Enrol("P4", [PersonInput(3, 0)]).Identity.Id;
        g.Delete(p4);
        var p5 = g.Enrol("P5", [PersonInput(4, 0)]).Identity.Id;
        Assert.Equal(p5, other.Identify([PersonInput(4, 0)]).Matches[0].Identity);
    }

    // Two stored people who look alike: "far" even has the probe's exact pixels, but was seen three hours later;
    // "near" was seen at camera c2 a minute after the probe at c1, the usual walk; a third has no camera or time.
    private static (GalleryService G, long Near, long Far, long Unplaced, SpatialTemporalProbe Where) LookAlikesOnTheWalk(TempDir dir)
    {
        var g = Open(dir);
        var t0 = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var near = g.Enrol("near", [PersonInput(0, 1) with { Origin = new SightingSource("c2", t0.AddSeconds(60)) }]).Identity.Id;
        var far = g.Enrol("far", [PersonInput(0, 7) with { Origin = new SightingSource("c2", t0.AddHours(3)) }]).Identity.Id;
        var unplaced = g.Enrol("no camera", [PersonInput(0, 2)]).Identity.Id;
        return (g, near, far, unplaced, new SpatialTemporalProbe(MinuteWalkFromC1ToC2(), "c1", t0));
    }

    [Fact]
    public void A_travel_time_model_reranks_by_how_plausible_the_walk_is()
    {
        using var dir = new TempDir();
        var (g, near, far, unplaced, where) = LookAlikesOnTheWalk(dir);
        Assert.Equal(far, g.Identify([PersonInput(0, 7)]).Matches[0].Identity);

        var r = g.Identify([PersonInput(0, 7)], where: where);
        Assert.Equal(near, r.Matches[0].Identity);
        var byId = r.Matches.ToDictionary(m => m.Identity);
        Assert.True(byId[near].Score > byId[near].AppearanceScore, "a likely walk raises the score");
        Assert.True(byId[far].Score < byId[far].AppearanceScore, "an unlikely one lowers it");
        Assert.Equal(byId[unplaced].AppearanceScore, byId[unplaced].Score); // no camera or time: appearance alone
        Assert.Contains("learned evidence for 2 of 3", r.SpatialTemporal);
    }

    [Fact]
    public void Search_with_a_travel_time_model_reorders_sightings_and_keeps_appearance_scores()
    {
        using var dir = new TempDir();
        var (g, near, far, unplaced, where) = LookAlikesOnTheWalk(dir);
        var plain = g.Search([PersonInput(0, 7)], 3, where: null);
        Assert.Null(plain.SpatialTemporal);
        Assert.Equal(far, plain.Hits[0].Identity);
        Assert.All(plain.Hits, h => Assert.Null(h.AppearanceScore));

        var r = g.Search([PersonInput(0, 7)], 3, where);
        Assert.Equal(near, r.Hits[0].Identity);
        Assert.True(r.Hits.Zip(r.Hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), "best first after rescaling");
        var byId = r.Hits.ToDictionary(h => h.Identity);
        Assert.Equal(plain.Hits.Single(h => h.Identity == far).Score, byId[far].AppearanceScore);
        Assert.True(byId[far].Score < byId[far].AppearanceScore);
        Assert.Equal(byId[unplaced].AppearanceScore, byId[unplaced].Score);
        Assert.Contains("learned evidence for 2 of 3", r.SpatialTemporal);
        // k still bounds the answer when the pool looked at is larger
        Assert.Single(g.Search([PersonInput(0, 7)], 1, where).Hits);
    }

    [Fact]
    public void Without_camera_or_time_or_a_model_the_answer_says_it_is_appearance_only()
    {
        var model = SpatialTemporalModel.Learn([new LabelledSighting(1, "c1", 0), new LabelledSighting(1, "c2", 60)]);
        var now = DateTimeOffset.UtcNow;
        Assert.NotNull(SpatialTemporalProbe.TryCreate(model, "c1", now, out var none));
        Assert.Null(none);
        Assert.Null(SpatialTemporalProbe.TryCreate(null, null, null, out var notAsked));
        Assert.Null(notAsked);
        Assert.Null(SpatialTemporalProbe.TryCreate(null, "c1", now, out var noModel));
        Assert.Contains("no travel-time model", noModel);
        Assert.Null(SpatialTemporalProbe.TryCreate(model, null, now, out var noCamera));
        Assert.Equal("the probe has no camera: appearance only", noCamera);
        Assert.Null(SpatialTemporalProbe.TryCreate(model, "c1", null, out var noTime));
        Assert.Equal("the probe has no time: appearance only", noTime);
        Assert.Null(SpatialTemporalProbe.TryCreate(model, " ", null, out var neither));
        Assert.Equal("the probe has no camera or time: appearance only", neither);
    }

    [Fact]
    public void The_shipped_model_declares_its_threshold_until_the_gallery_is_calibrated()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(); // the project's default model and its sidecar (models/default)
        var g = new GalleryService(GalleryStore.Open(dir.Path), model);
        var declared = g.ResolveThreshold();
        Assert.Equal(0.5745, declared.Score, 6);
        Assert.Equal(1e-3, declared.Far);
        Assert.Contains("validation fold", declared.Source);   // read off identities the model never trained on, not the test set

        g.Store.SetThreshold(new Threshold(g.Model.Id, 0.61, 1e-4, "calibrated on site", DateTimeOffset.UtcNow), "test");
        Assert.Equal("calibrated on site", g.ResolveThreshold().Source);
        Assert.Equal(0.7, g.ResolveThreshold(0.7).Score);
    }

    [Fact]
    public void Verify_uses_the_stored_threshold_and_an_override_wins()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var a = g.Enrol("A", [PersonInput(0, 0)]).Identity.Id;
        g.Enrol("B", [PersonInput(1, 0)]);
        Assert.True(g.Verify(a, [PersonInput(0, 3)]).Match);
        Assert.False(g.Verify(a, [PersonInput(1, 3)]).Match);
        g.Store.SetThreshold(new Threshold(g.Model.Id, 0.999999, 1e-3, "test calibration", DateTimeOffset.UtcNow), "test");
        var strict = g.Verify(a, [PersonInput(0, 3)]);
        Assert.False(strict.Match);
        Assert.Equal("test calibration", strict.Threshold.Source);
        Assert.True(g.Verify(a, [PersonInput(0, 3)], thresholdOverride: 0.5).Match);
        Assert.Throws<IdentityNotFoundException>(() => g.Verify(999, [PersonInput(0, 3)]));
        Assert.Throws<ReidException>(() => g.Verify(a, [PersonInput(0, 3)], thresholdOverride: 7));
    }

    [Fact]
    public void An_unknown_probe_can_be_enrolled_as_a_new_identity()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        g.Enrol("A", [PersonInput(0, 0)]);
        var r = g.Identify([PersonInput(3, 0)], enrolUnknownAs: "newcomer");
        Assert.True(r.Unknown);
        Assert.Equal("newcomer", r.Enrolled!.Name);
        var again = g.Identify([PersonInput(3, 1)]);
        Assert.False(again.Unknown);
        Assert.Equal(r.Enrolled.Id, again.Matches[0].Identity);
    }

    [Fact]
    public void Search_returns_top_k_sightings_and_delete_removes_them_from_answers()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var a = g.Enrol("A", [.. Enumerable.Range(0, 5).Select(s => PersonInput(0, s))]).Identity.Id;
        g.Enrol("B", [.. Enumerable.Range(0, 5).Select(s => PersonInput(1, s))]);
        var hits = g.Search([PersonInput(0, 9)], k: 3);
        Assert.Equal(3, hits.Count);
        Assert.All(hits, h => Assert.Equal(a, h.Identity));
        Assert.Equal(10, g.Search([PersonInput(0, 9)]).Count); // default k=50 > gallery size
        Assert.True(g.Delete(a, "test", "erasure request"));
        Assert.DoesNotContain(g.Search([PersonInput(0, 9)]), h => h.Identity == a);
        Assert.Single(g.List());
    }

    [Fact]
    public void Bad_images_refuse_the_whole_enrolment()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var e = Assert.ThrowsAny<ReidException>(() => g.Enrol("A", [PersonInput(0, 0), new ImageInput("broken.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 1, 2])]));
        Assert.Contains("broken.jpg", e.Message);
        Assert.ThrowsAny<ReidException>(() => g.Enrol("A", [new ImageInput("huge.jpg", HugeHeaderJpeg())]));
        Assert.ThrowsAny<ReidException>(() => g.Enrol("A", [new ImageInput("empty.jpg", [])]));
        Assert.Equal(0, g.Store.CountIdentities());
    }

    [Fact]
    public void Another_process_writing_the_same_directory_is_seen_by_the_index()
    {
        using var dir = new TempDir();
        var server = Open(dir);
        var cli = Open(dir);
        var id = cli.Enrol("A", [PersonInput(2, 0)]).Identity.Id;
        Assert.Equal(id, server.Identify([PersonInput(2, 1)]).Matches[0].Identity);
        cli.Delete(id);
        Assert.Empty(server.Identify([PersonInput(2, 1)]).Matches);
    }

    [Fact]
    public void Reembedding_makes_old_sightings_searchable_by_a_new_model_without_mixing_models()
    {
        using var dir = new TempDir();
        var old = Open(dir, "model-a");
        old.Enrol("A", [PersonInput(0, 0), PersonInput(0, 1)]);
        old.Enrol("B", [PersonInput(1, 0)]);
        var fresh = Open(dir, "model-b");
        Assert.Equal(0, fresh.Index.Count);
        Assert.Equal(3, fresh.SightingsMissingEmbedding);
        var r = fresh.Reembed();
        Assert.Equal(3, r.Embedded);
        Assert.Equal(3, fresh.Index.Count);
        Assert.Equal(0, fresh.SightingsMissingEmbedding);
        Assert.Equal("A", fresh.Identify([PersonInput(0, 5)]).Matches[0].Name);
        Assert.Equal(new Dictionary<string, int> { ["model-a"] = 3, ["model-b"] = 3 }, fresh.Store.EmbeddingCounts());
    }

    [Fact]
    public void Large_crops_are_stored_shrunk_but_big_enough_to_reembed()
    {
        using var dir = new TempDir();
        var g = Open(dir);
        var big = ImageCodec.EncodeJpeg(Person(0, 0, 400, 1000), 90);
        var s = g.Enrol("tall", [new ImageInput("tall.jpg", big)]).Sightings.Single();
        Assert.Equal(512, s.CropHeight);
        Assert.Equal(205, s.CropWidth);
        var crop = ImageCodec.Decode(g.Store.GetCrop(s.Id)!, "crop");
        Assert.Equal((205, 512), (crop.Width, crop.Height));
    }

    [Fact]
    public void Many_big_photos_in_one_request_are_enrolled_shrunk_and_a_big_probe_still_finds_them()
    {
        // 12 photos of 1500x3600 (16 MB each as RGB): each is shrunk as soon as it is decoded, so the request never
        // holds them all at full size; the stored crops and the probe are what the model sees.
        using var dir = new TempDir();
        var g = Open(dir);
        var photos = Enumerable.Range(0, 12).Select(shot => new ImageInput($"p{shot}.png", ImageCodec.EncodePng(Person(2, shot, 1500, 3600)))).ToList();
        var enrolled = g.Enrol("tall person", photos);
        Assert.Equal(12, enrolled.Sightings.Count);
        Assert.All(enrolled.Sightings, x => Assert.Equal((213, 512), (x.CropWidth, x.CropHeight)));
        g.Enrol("someone else", [PersonInput(4, 0), PersonInput(4, 1)]);
        var probe = new ImageInput("probe.png", ImageCodec.EncodePng(Person(2, 99, 1500, 3600)));
        var r = g.Identify([probe]);
        Assert.False(r.Unknown);
        Assert.Equal("tall person", r.Matches[0].Name);
        Assert.True(g.Verify(enrolled.Identity.Id, [probe]).Match);
    }
}

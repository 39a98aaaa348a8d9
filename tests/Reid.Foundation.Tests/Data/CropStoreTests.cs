using Reid.Core;
using Reid.Data;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Data;

public sealed class CropStoreTests
{
    private static (CropOrigin, byte[]) Crop(int track, long frame, byte fill) =>
        (new CropOrigin("/videos/a.mp4", track, frame, "10,20,30,60"), Enumerable.Repeat(fill, 100 + track).ToArray());

    [Fact]
    public void Crops_added_for_a_video_read_back_by_id_after_reopening_and_the_video_is_known_as_mined()
    {
        using var dir = new TempDir();
        var path = dir.File("crops.db");
        using (var store = CropStore.OpenOrCreate(path))
        {
            Assert.False(store.HasSource("/videos/a.mp4", 1234));
            store.AddSource("/videos/a.mp4", 1234, [Crop(1, 5, 7), Crop(1, 9, 8), Crop(2, 5, 9)]);
        }
        using var reopened = CropStore.Open(path);
        Assert.Equal(3, reopened.Count);
        var ids = reopened.Ids();
        Assert.Equal(Enumerable.Repeat((byte)8, 101), reopened.ReadJpeg(ids[1]));
        Assert.Equal(new CropOrigin("/videos/a.mp4", 2, 5, "10,20,30,60"), reopened.Origin(ids[2]));
        Assert.Equal("t0002_f000005_10_20_30_60.jpg", reopened.Origin(ids[2])!.Name);
        Assert.True(reopened.HasSource("/videos/a.mp4", 1234));
        Assert.False(reopened.HasSource("/videos/a.mp4", 999));   // the file changed since: mine it again
        // Reads come from the loader's worker threads at once.
        Parallel.For(0, 64, i => Assert.Equal(100 + (i % 3 == 2 ? 2 : 1), reopened.ReadJpeg(ids[i % 3]).Length));
    }

    [Fact]
    public void A_video_whose_mining_fails_half_way_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        using var store = CropStore.OpenOrCreate(dir.File("crops.db"));
        IEnumerable<(CropOrigin, byte[])> Failing()
        {
            yield return Crop(1, 1, 1);
            throw new IOException("decoder died");
        }
        Assert.Throws<IOException>(() => store.AddSource("/videos/b.mp4", 10, Failing()));
        Assert.Equal(0, store.Count);
        Assert.False(store.HasSource("/videos/b.mp4", 10));
    }

    [Fact]
    public void A_missing_store_or_a_file_that_is_not_one_is_a_clear_error()
    {
        using var dir = new TempDir();
        Assert.Contains("not found", Assert.Throws<ReidException>(() => CropStore.Open(dir.File("none.db"))).Message);
        File.WriteAllText(dir.File("text.db"), "hello, not a database");
        Assert.Contains("text.db", Assert.Throws<ReidException>(() => CropStore.Open(dir.File("text.db"))).Message);
    }
}

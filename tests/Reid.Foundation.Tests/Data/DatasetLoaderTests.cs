using Reid.Core;
using Reid.Data;
using Reid.TestSupport;

namespace Reid.Foundation.Tests.Data;

public class DatasetLoaderTests
{
    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0xFF, 0xD8]);
    }

    [Fact]
    public void Market1501NamesGiveIdCameraSequenceFrame()
    {
        var n = Market1501Name.Parse("dir/0002_c3s1_000451_03.jpg", "test");
        Assert.Equal(new Market1501Name(2, 3, 1, 451, 3), n);
        var record = n.ToRecord("dir/0002_c3s1_000451_03.jpg");
        Assert.Equal("3", record.Camera);
        Assert.Equal(1, record.Sequence);
        Assert.Equal(451, record.Frame);
        Assert.Null(record.Timestamp);
        Assert.True(Market1501Name.Parse("-1_c1s1_000401_03.jpg", "t").ToRecord("x").IsJunk);
        Assert.True(Market1501Name.Parse("0000_c6s1_000401_03.jpg", "t").ToRecord("x").IsDistractor);
    }

    [Theory]
    [InlineData("0002_c3s1_000451.jpg")]
    [InlineData("2_c3s1_000451_03.jpg")]
    [InlineData("0002_c3_000451_03.jpg")]
    [InlineData("0002_c3s1_000451_03.txt")]
    [InlineData("Thumbs.db")]
    public void MalformedMarketNamesAreRejected(string name) => Assert.Null(Market1501Name.TryParse(name));

    [Fact]
    public void MarketFolderLoadsQueryAndGalleryWithJunkAndDistractorsKept()
    {
        using var dir = new TempDir();
        Touch(dir.File("query/0001_c1s1_000001_00.jpg"));
        Touch(dir.File("bounding_box_test/0001_c2s1_000101_00.jpg"));
        Touch(dir.File("bounding_box_test/-1_c2s1_000201_00.jpg"));
        Touch(dir.File("bounding_box_test/0000_c3s1_000301_00.jpg"));
        File.WriteAllText(dir.File("bounding_box_test/Thumbs.db"), "x");
        var ds = Market1501Dataset.LoadFolder(dir.Path);
        Assert.Single(ds.Query);
        Assert.Equal(3, ds.Gallery.Count);
        Assert.Contains(ds.Gallery, r => r.IsJunk);
        Assert.Contains(ds.Gallery, r => r.IsDistractor);
        Assert.Null(ds.Train);
    }

    [Fact]
    public void MarketFolderWithoutItsSubfoldersSaysWhatIsMissing()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ReidException>(() => Market1501Dataset.LoadFolder(dir.Path));
        Assert.Contains("bounding_box_test", e.Message);
    }

    [Fact]
    public void SplitListsAreRelativeToRootAndBadLinesNameFileAndLine()
    {
        using var dir = new TempDir();
        var split = Directory.CreateDirectory(dir.File("split")).FullName;
        File.WriteAllLines(Path.Combine(split, "query.txt"), ["0001_c1s1_000001_00.jpg", "", "# comment"]);
        File.WriteAllLines(Path.Combine(split, "gallery.txt"), ["0001_c2s1_000101_00.jpg", "0002_c2s1_000101_00.jpg"]);
        var ds = Market1501Dataset.LoadSplit(dir.Path, split);
        Assert.Equal(Path.Combine(dir.Path, "0001_c1s1_000001_00.jpg"), ds.Query[0].Path);
        Assert.Equal(2, ds.Gallery.Count);

        File.WriteAllLines(Path.Combine(split, "gallery.txt"), ["0001_c2s1_000101_00.jpg", "not_a_market_name.jpg"]);
        var e = Assert.Throws<ReidException>(() => Market1501Dataset.LoadSplit(dir.Path, split));
        Assert.Contains("gallery.txt line 2", e.Message);
        Assert.Contains("not_a_market_name.jpg", e.Message);

        File.WriteAllLines(Path.Combine(split, "gallery.txt"), ["../../etc/0001_c2s1_000101_00.jpg"]);
        Assert.Contains("relative", Assert.Throws<ReidException>(() => Market1501Dataset.LoadSplit(dir.Path, split)).Message);

        File.Delete(Path.Combine(split, "gallery.txt"));
        Assert.Contains("gallery.txt", Assert.Throws<ReidException>(() => Market1501Dataset.LoadSplit(dir.Path, split)).Message);
    }

    [Fact]
    public void Cuhk03TakesTheLowestImageOfEachCameraAsQuery()
    {
        using var dir = new TempDir();
        foreach (var k in new[] { 1, 2, 4, 5, 7 }) Touch(dir.File($"12_{k}.jpg"));
        foreach (var k in new[] { 0, 6, 9 }) Touch(dir.File($"3_{k}.jpg"));
        var ds = Cuhk03Dataset.Load(dir.Path);
        Assert.Equal(["3_0.jpg", "3_6.jpg", "12_1.jpg", "12_5.jpg"], ds.Query.Select(r => r.Name));
        Assert.Equal(["1", "2", "1", "2"], ds.Query.Select(r => r.Camera));
        Assert.Equal(4, ds.Gallery.Count);
        Assert.Contains(ds.Gallery, r => r.Name == "12_7.jpg" && r.Camera == "2");

        Touch(dir.File("12_x.jpg"));
        Assert.Contains("12_x.jpg", Assert.Throws<ReidException>(() => Cuhk03Dataset.Load(dir.Path)).Message);
    }

    /// <summary>The shared CUHK03 folders write <c>0000_00.jpg</c>: two-digit image numbers and people counted from 0.</summary>
    [Fact]
    public void Cuhk03ReadsTwoDigitImageNumbersAndAPersonNumberedZero()
    {
        using var dir = new TempDir();
        foreach (var k in new[] { 0, 3, 5, 9 }) Touch(dir.File($"0000_0{k}.jpg"));
        foreach (var k in new[] { 1, 6 }) Touch(dir.File($"0001_0{k}.jpg"));
        var ds = Cuhk03Dataset.Load(dir.Path);
        Assert.Equal(["0000_00.jpg", "0000_05.jpg", "0001_01.jpg", "0001_06.jpg"], ds.Query.Select(r => r.Name));
        // person 0000 is a person, not a distractor: its queries have its other-camera images as matches
        Assert.All(ds.Query.Concat(ds.Gallery), r => Assert.False(r.IsDistractor || r.IsJunk));
        Assert.Equal(2, ds.Query.Select(r => r.PersonId).Distinct().Count(p => ds.Query.Count(q => q.PersonId == p) == 2));

        Touch(dir.File("0002_10.jpg"));   // k must be 0-9
        Assert.Contains("0002_10.jpg", Assert.Throws<ReidException>(() => Cuhk03Dataset.Load(dir.Path)).Message);
    }

    [Fact]
    public void IdentityFoldersDrawQueriesWithASeedAndKeepSmallIdentitiesInTheGallery()
    {
        using var dir = new TempDir();
        for (var i = 0; i < 5; i++) Touch(dir.File($"alice/{i}.jpg"));
        for (var i = 0; i < 3; i++) Touch(dir.File($"bob/{i}.png"));
        Touch(dir.File("carol/0.jpg"));
        var a = IdentityFolderDataset.Load(dir.Path, new QuerySelection(QueryPerId: 2, Seed: 7));
        var b = IdentityFolderDataset.Load(dir.Path, new QuerySelection(QueryPerId: 2, Seed: 7));
        Assert.Equal(a.Query.Select(r => r.Path), b.Query.Select(r => r.Path));
        Assert.Equal(4, a.Query.Count);            // alice 2, bob 2, carol (1 image) none
        Assert.Equal(5, a.Gallery.Count);          // alice 3, bob 1, carol 1
        Assert.All(a.Query.Concat(a.Gallery), r => Assert.Null(r.Camera));
        Assert.Equal(3, a.Query.Concat(a.Gallery).Select(r => r.PersonId).Distinct().Count());
        Assert.Empty(a.Query.Intersect(a.Gallery));

        Assert.Contains("--query-per-id", Assert.Throws<ReidException>(() => IdentityFolderDataset.Load(dir.Path, new QuerySelection())).Message);
    }

    [Fact]
    public void IdentityFoldersTakeSplitListsAndNameUnknownEntries()
    {
        using var dir = new TempDir();
        Touch(dir.File("data/alice/0.jpg"));
        Touch(dir.File("data/alice/1.jpg"));
        var split = Directory.CreateDirectory(dir.File("split")).FullName;
        File.WriteAllLines(Path.Combine(split, "query.txt"), ["alice/0.jpg"]);
        File.WriteAllLines(Path.Combine(split, "gallery.txt"), ["alice/1.jpg"]);
        var ds = IdentityFolderDataset.Load(dir.File("data"), new QuerySelection(split));
        Assert.Equal("0.jpg", ds.Query.Single().Name);

        File.WriteAllLines(Path.Combine(split, "gallery.txt"), ["alice/1.jpg", "bob/9.jpg"]);
        var e = Assert.Throws<ReidException>(() => IdentityFolderDataset.Load(dir.File("data"), new QuerySelection(split)));
        Assert.Contains("gallery.txt line 2", e.Message);
    }

    [Fact]
    public void CsvReadsHeaderQuotesCamerasAndTimestamps()
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("labels.csv"), [
            "image,label,camera,timestamp",
            "a/1.jpg,p7,cam A,12.5",
            "\"a/2,x.jpg\",p7,cam B,13",
            "a/3.jpg,p8,,",
            "a/4.jpg,p8",
        ]);
        var split = Directory.CreateDirectory(dir.File("split")).FullName;
        File.WriteAllLines(Path.Combine(split, "query.txt"), ["a/1.jpg", "a/3.jpg"]);
        File.WriteAllLines(Path.Combine(split, "gallery.txt"), ["a/2,x.jpg", "a/4.jpg"]);
        var ds = CsvDataset.Load(dir.File("labels.csv"), new QuerySelection(split));
        Assert.Equal("cam A", ds.Query[0].Camera);
        Assert.Equal(12.5, ds.Query[0].Timestamp);
        Assert.Null(ds.Query[1].Camera);
        Assert.Null(ds.Query[1].Timestamp);
        Assert.Equal(Path.Combine(dir.Path, "a", "2,x.jpg"), ds.Gallery[0].Path);
        Assert.Equal(ds.Query[0].PersonId, ds.Gallery[0].PersonId);
        Assert.NotEqual(ds.Query[0].PersonId, ds.Query[1].PersonId);
    }

    [Theory]
    [InlineData("a.jpg,p1,c1,yesterday", "line 2", "timestamp")]
    [InlineData("a.jpg", "line 2", "found 1 field")]
    [InlineData("a.jpg,p1,c1,1,extra", "line 2", "found 5 field")]
    [InlineData("\"a.jpg,p1", "line 2", "unterminated")]
    [InlineData(",p1", "line 2", "empty")]
    public void MalformedCsvLinesNameTheLine(string line, string where, string what)
    {
        using var dir = new TempDir();
        File.WriteAllLines(dir.File("x.csv"), ["ok.jpg,p1", line]);
        var e = Assert.Throws<ReidException>(() => CsvDataset.Load(dir.File("x.csv"), new QuerySelection(QueryPerId: 1)));
        Assert.Contains("x.csv " + where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void NumericLabelsKeepTheirValueOthersAreNumberedFromOne()
    {
        Assert.Equal(42, IdentityLabels.Map(["42", "7"])["42"]);
        var m = IdentityLabels.Map(["bob", "alice", "0"]);
        Assert.Equal([1, 2, 3], new[] { m["0"], m["alice"], m["bob"] });
    }

    [Fact]
    public void LoaderKnowsItsKindsAndRefusesOthers()
    {
        Assert.Equal(DatasetKind.Market1501, DatasetLoader.ParseKind("market1501"));
        Assert.Contains("known", Assert.Throws<ReidException>(() => DatasetLoader.ParseKind("dukemtmc")).Message);
    }

    [SharedFact]
    public void HoldoutV1SplitLoads()
    {
        var ds = DatasetLoader.Load(new DatasetSpec(DatasetKind.Market1501, SharedData.Market1501Train, SharedData.HoldoutV1));
        Assert.Equal(1076, ds.Query.Count);
        Assert.Equal(3218, ds.Gallery.Count);
        Assert.Equal(8642, ds.Train!.Count);
        Assert.Equal(250, ds.QueryIdentities);
        Assert.All(ds.Query, r => Assert.True(File.Exists(r.Path)));
    }
}

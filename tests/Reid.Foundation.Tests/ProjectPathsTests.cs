using Reid.Core;
using Reid.TestSupport;

namespace Reid.Foundation.Tests;

public class ProjectPathsTests
{
    [Fact]
    public void RepoRootHoldsTheSolution() =>
        Assert.True(File.Exists(Path.Combine(ProjectPaths.RepoRoot!, "Reid.slnx")));

    [SharedFact]
    public void SharedDataHasTheHoldoutSplit() =>
        Assert.True(File.Exists(Path.Combine(SharedData.HoldoutV1, "query.txt")));
}

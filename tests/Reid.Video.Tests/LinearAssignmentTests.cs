using Reid.Video.Tracking;

namespace Reid.Video.Tests;

public class LinearAssignmentTests
{
    [Fact]
    public void Finds_the_minimum_cost_assignment_not_the_greedy_one()
    {
        // Greedy would take (0,0)=1 and then be forced into (1,1)=10; the optimum is 2 + 3.
        var cost = new double[,] { { 1, 2 }, { 3, 10 } };
        var r = LinearAssignment.Solve(cost, 100);
        Assert.Equal([(0, 1), (1, 0)], r.Matches);
    }

    [Fact]
    public void Forbidden_pairs_are_never_matched_and_do_not_displace_feasible_ones()
    {
        var cost = new double[,] { { 0.1, double.PositiveInfinity }, { 0.2, 0.9 } };
        var r = LinearAssignment.Solve(cost, 0.5); // 0.9 is above the threshold
        Assert.Equal([(0, 0)], r.Matches);
        Assert.Equal([1], r.UnmatchedRows);
        Assert.Equal([1], r.UnmatchedCols);
    }

    [Theory]
    [InlineData(3, 5, 1)]
    [InlineData(5, 3, 2)]
    [InlineData(4, 4, 3)]
    [InlineData(6, 6, 4)]
    public void Matches_brute_force_on_random_rectangular_matrices(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 20; trial++)
        {
            var cost = new double[rows, cols];
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                cost[i, j] = rng.NextDouble() < 0.2 ? double.PositiveInfinity : rng.NextDouble();
            var r = LinearAssignment.Solve(cost, 1.0);
            double got = r.Matches.Sum(m => cost[m.Row, m.Col]);
            var (bestCount, bestCost) = BruteForce(cost);
            Assert.Equal(bestCount, r.Matches.Count);
            Assert.Equal(bestCost, got, 9);
        }
    }

    // Maximum number of feasible matches first, then minimum total cost among those.
    private static (int, double) BruteForce(double[,] cost)
    {
        int rows = cost.GetLength(0), cols = cost.GetLength(1);
        (int, double) best = (0, 0);
        void Go(int i, bool[] usedCols, int count, double sum)
        {
            if (i == rows)
            {
                if (count > best.Item1 || (count == best.Item1 && sum < best.Item2)) best = (count, sum);
                return;
            }
            Go(i + 1, usedCols, count, sum);
            for (int j = 0; j < cols; j++)
            {
                if (usedCols[j] || !double.IsFinite(cost[i, j])) continue;
                usedCols[j] = true;
                Go(i + 1, usedCols, count + 1, sum + cost[i, j]);
                usedCols[j] = false;
            }
        }
        Go(0, new bool[cols], 0, 0);
        return best;
    }

    [Fact]
    public void Empty_matrices_give_everything_unmatched()
    {
        var r = LinearAssignment.Solve(new double[0, 3], 1);
        Assert.Empty(r.Matches);
        Assert.Equal([0, 1, 2], r.UnmatchedCols);
    }
}

using Reid.Data;

namespace Reid.Evaluation;

/// <summary>Options of an evaluation: the CMC curve's length and how many ranked matches each query keeps.</summary>
public sealed record EvaluationOptions(int MaxRank = 50, int TopK = 50, bool Verification = true);

/// <summary>One query's outcome. <see cref="FirstMatchRank"/> is 1-based; queries with no valid match are not <see cref="Valid"/>.</summary>
public sealed record QueryResult(int QueryIndex, bool Valid, int Positives, int FirstMatchRank, double AveragePrecision,
                                 double InversePenalty, RankList Ranking);

/// <summary>
/// Scores a distance matrix with the Market-1501 protocol (<see cref="Market1501Protocol"/>): CMC, mAP and mINP
/// over the valid queries (those left with at least one match), and optionally verification figures.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(DistanceMatrix distances, IReadOnlyList<ImageRecord> query,
                                            IReadOnlyList<ImageRecord> gallery, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        if (distances.Rows != query.Count || distances.Columns != gallery.Count)
            throw new ArgumentException($"distance matrix is {distances.Rows}x{distances.Columns} but there are {query.Count} queries and {gallery.Count} gallery images");

        var results = new QueryResult[query.Count];
        Parallel.For(0, query.Count, q => results[q] = EvaluateQuery(distances, q, query, gallery, options.TopK));

        var valid = results.Where(r => r.Valid).ToList();
        var cmc = CmcCurve.FromFirstMatchRanks(valid.Select(r => r.FirstMatchRank), options.MaxRank);
        var verification = options.Verification ? Verification.Compute(distances, query, gallery) : null;
        return new EvaluationResult(
            cmc,
            valid.Count == 0 ? 0 : valid.Average(r => r.AveragePrecision),
            valid.Count == 0 ? 0 : valid.Average(r => r.InversePenalty),
            valid.Count, results.Length - valid.Count, results, verification, distances.Kind);
    }

    /// <summary>
    /// AP is the mean of the precision at each correct match's rank (non-interpolated, as torchreid and the
    /// official code after junk removal); INP is (number of matches) / (rank of the hardest match), Ye et al. 2021.
    /// </summary>
    private static QueryResult EvaluateQuery(DistanceMatrix distances, int q, IReadOnlyList<ImageRecord> query,
                                             IReadOnlyList<ImageRecord> gallery, int topK)
    {
        var full = RankList.Rank(distances, q, g => Market1501Protocol.Relate(query[q], gallery[g]));
        int positives = 0, first = 0, last = 0;
        double precisionSum = 0;
        for (var i = 0; i < full.Matches.Count; i++)
        {
            if (full.Matches[i].Relation != PairRelation.Positive) continue;
            positives++;
            if (first == 0) first = i + 1;
            last = i + 1;
            precisionSum += positives / (double)(i + 1);
        }
        var top = new RankList(q, full.Matches.Take(topK).ToArray());
        return positives == 0
            ? new QueryResult(q, false, 0, 0, 0, 0, top)
            : new QueryResult(q, true, positives, first, precisionSum / positives, positives / (double)last, top);
    }
}

/// <summary>Everything an evaluation measured. Fractions are in [0, 1].</summary>
public sealed record EvaluationResult(
    CmcCurve Cmc,
    double MeanAP,
    double MeanInp,
    int ValidQueries,
    int SkippedQueries,
    IReadOnlyList<QueryResult> Queries,
    VerificationResult? Verification,
    DistanceKind DistanceKind)
{
    public double Rank1 => Cmc.At(1);
    public double Rank5 => Cmc.At(5);
    public double Rank10 => Cmc.At(10);
}

using Reid.Data;
using Reid.Evaluation;

namespace Reid.SpatialTemporal;

/// <summary>
/// The `--st` stage of `reid evaluate`: fuses the appearance distances with the model's travel times and, when
/// given the query–query and gallery–gallery distances, re-ranks the fused distances (fusion first, as ST-ReID).
/// </summary>
public sealed class SpatialTemporalStage(SpatialTemporalModel model) : IRankingStage
{
    public string Name => "st";

    public StageRanking Rank(DistanceMatrix appearance, IReadOnlyList<ImageRecord> query, IReadOnlyList<ImageRecord> gallery,
                             DistanceMatrix? queryQuery, DistanceMatrix? galleryGallery)
    {
        var reRanking = queryQuery is null ? null : new ReRankingOptions();
        var (ranking, report) = SpatialTemporalRanking.Apply(model, appearance, query, gallery, queryQuery, galleryGallery, reRanking);
        return new StageRanking(ranking, report.Warnings);
    }
}

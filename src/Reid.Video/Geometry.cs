using Reid.Imaging;

namespace Reid.Video;

/// <summary>One detected person in one frame.</summary>
public readonly record struct Detection(BoundingBox Box, float Score);

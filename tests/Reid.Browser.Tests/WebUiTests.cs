using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Playwright;
using Reid.Core;
using Reid.Gallery;
using Reid.Server;
using Reid.TestSupport;

namespace Reid.Browser.Tests;

/// <summary>
/// Walks every tab of the web UI in Debian's Chromium (never a downloaded browser) against a real server on
/// 127.0.0.1 with the shared OSNet model and Market-1501 crops; screenshots go to artifacts/screenshots/.
/// </summary>
public class WebUiTests
{
    private const string Chromium = BrowserFactAttribute.Chromium;

    // Embedding on a busy 2-core machine takes seconds, not milliseconds: wait for answers, not for the default 5 s.
    static WebUiTests() => Assertions.SetDefaultExpectTimeout(60_000);

    private static string[] ImagesOf(string person, int count) =>
        Directory.EnumerateFiles(SharedData.Market1501Train, $"{person}_*.jpg").Order().Take(count).ToArray();

    // Debian's Chromium, headless, nothing fetched from the network by the browser itself.
    private static Task<IBrowser> LaunchChromium(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = Chromium,
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });

    private static string ScreenshotDir()
    {
        var dir = Path.Combine(ProjectPaths.RepoRoot ?? Path.GetTempPath(), "artifacts", "screenshots");
        Directory.CreateDirectory(dir);
        return dir;
    }

    [BrowserFact]
    public async Task Every_tab_works_end_to_end_in_chromium()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        // The shared OSNet's score at FAR 1e-3 on holdout-v1, as measured by `reid gallery calibrate` (docs/BENCHMARKS.md).
        gallery.Store.SetThreshold(new Threshold(model.Id, 0.788, 1e-3, "calibrated at FAR 0.001 on holdout-v1", DateTimeOffset.UtcNow), "test");
        var key = ApiKeys.EnsureAdminKey(gallery.Store)!;
        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery);
        await app.StartAsync();
        var shots = ScreenshotDir();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromium(playwright);
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            var external = new List<string>();
            var origin = ReidServer.BoundAddresses(app).First();
            page.Request += (_, r) => { if (!r.Url.StartsWith(origin) && !r.Url.StartsWith("blob:") && !r.Url.StartsWith("data:")) external.Add(r.Url); };
            page.Dialog += async (_, d) => await d.AcceptAsync();
            page.SetDefaultTimeout(90_000);

            await page.GotoAsync(origin + "/");
            await page.GetByTestId("api-key").FillAsync(key);
            await page.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("identities");

            // Enrollment: two people from their crops.
            var anna = ImagesOf("0002", 4);
            var ben = ImagesOf("0007", 4);
            await page.GetByTestId("enrol-name").FillAsync("Anna");
            await page.GetByTestId("enrol-images").SetInputFilesAsync(anna[..3]);
            await page.GetByTestId("enrol-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("enrol-result")).ToContainTextAsync("Enrolled Anna");
            await Assertions.Expect(page.GetByTestId("enrol-result").Locator("img")).ToHaveCountAsync(3);
            await WaitForImages(page, "enrol-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "1-enrollment.png"), FullPage = true });
            await page.GetByTestId("enrol-name").FillAsync("Ben");
            await page.GetByTestId("enrol-images").SetInputFilesAsync(ben[..3]);
            await page.GetByTestId("enrol-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("enrol-result")).ToContainTextAsync("Enrolled Ben");

            // Verification: Anna's unseen crop against the claim "Anna", then against "Ben".
            await page.GetByRole(AriaRole.Tab, new() { Name = "Verification" }).ClickAsync();
            await page.GetByTestId("verify-identity").SelectOptionAsync(new SelectOptionValue { Label = "Anna (#1, 3 crops)" });
            await Assertions.Expect(page.GetByTestId("verify-samples").Locator("img")).ToHaveCountAsync(3);
            await page.GetByTestId("verify-images").SetInputFilesAsync(anna[3]);
            await page.GetByTestId("verify-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("Yes, this is Anna");
            // The verdict is in words; the score is there on demand. Numbers the page reads by their JSON names: a
            // renamed field would show as NaN.
            var score = page.GetByTestId("verify-result").GetByText(new Regex(@"mean \d\.\d{3}\) against threshold \d\.\d{3}"));
            await Assertions.Expect(score).ToBeHiddenAsync();
            await page.GetByTestId("verify-result").GetByText("Show the score").ClickAsync();
            await Assertions.Expect(score).ToBeVisibleAsync();
            await WaitForImages(page, "verify-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "2-verification.png"), FullPage = true });
            await page.GetByTestId("verify-identity").SelectOptionAsync(new SelectOptionValue { Label = "Ben (#2, 3 crops)" });
            await page.GetByTestId("verify-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("No, this is not Ben");

            // Identification: Ben's unseen crop is Ben; a stranger is unknown.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Identification" }).ClickAsync();
            await page.GetByTestId("identify-images").SetInputFilesAsync(ben[3]);
            await page.GetByTestId("identify-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("identify-result")).ToContainTextAsync("This is Ben");
            await Assertions.Expect(page.GetByTestId("identify-result").Locator(".card.match")).ToContainTextAsync("likely this person");
            await Assertions.Expect(page.GetByTestId("identify-result")).ToContainTextAsync(new Regex(@"mean \d\.\d{3} over \d"));
            await Assertions.Expect(page.GetByTestId("identify-result").Locator(".card.match")).ToHaveCountAsync(1);
            await WaitForImages(page, "identify-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "3-identification.png"), FullPage = true });
            await page.GetByTestId("identify-images").SetInputFilesAsync(ImagesOf("0011", 1));
            await page.GetByTestId("identify-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("identify-result")).ToContainTextAsync("Nobody in the gallery");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "3b-identification-unknown.png"), FullPage = true });

            // Search: top-k grid, Anna's crops first.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Search" }).ClickAsync();
            await page.GetByTestId("search-images").SetInputFilesAsync(anna[3]);
            await page.GetByTestId("search-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("search-result").Locator(".card")).ToHaveCountAsync(6);
            await Assertions.Expect(page.GetByTestId("search-result").Locator(".card").First).ToContainTextAsync("Anna");
            await WaitForImages(page, "search-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "4-search.png"), FullPage = true });

            // Gallery: browse, open one, delete Ben.
            await page.GetByRole(AriaRole.Tab, new() { Name = "Gallery" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("gallery-list").Locator(".card")).ToHaveCountAsync(2);
            await page.GetByTestId("gallery-list").Locator(".card").First.ClickAsync();
            await Assertions.Expect(page.GetByTestId("gallery-detail").Locator("img")).ToHaveCountAsync(3);
            await WaitForImages(page, "gallery-list");
            await WaitForImages(page, "gallery-detail");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "5-gallery.png"), FullPage = true });
            await page.GetByTestId("delete-2").ClickAsync();
            await Assertions.Expect(page.GetByTestId("gallery-list").Locator(".card")).ToHaveCountAsync(1);
            await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("Erased Ben");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "6-gallery-after-delete.png"), FullPage = true });

            Assert.Null(gallery.Store.GetIdentity(2));
            Assert.Empty(external);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [BrowserFact]
    public async Task With_a_travel_time_model_identify_and_search_take_the_probes_camera_and_time()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var key = ApiKeys.EnsureAdminKey(gallery.Store)!;
        var images = ImagesOf("0002", 4);
        ImageInput At(string file, string camera, DateTimeOffset t) =>
            new(Path.GetFileName(file), File.ReadAllBytes(file), new SightingSource(camera, t, Path.GetFileName(file)));
        var t0 = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        gallery.Enrol("seen at c2", [At(images[0], "c2", t0.AddMinutes(1)), At(images[1], "c2", t0.AddMinutes(1))]);
        // People walk from c1 to c2 in about a minute.
        var walks = Enumerable.Range(0, 50).SelectMany(p => new[]
            { new Reid.SpatialTemporal.LabelledSighting(p, "c1", 1000.0 * p), new Reid.SpatialTemporal.LabelledSighting(p, "c2", 1000.0 * p + 60) }).ToArray();
        var travel = Reid.SpatialTemporal.SpatialTemporalModel.Learn(walks, new Reid.SpatialTemporal.SpatialTemporalOptions { SmoothingSeconds = 8 });
        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery, travelTimes: travel);
        await app.StartAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromium(playwright);
            // The page's local time zone decides what the datetime-local field means; pin it so the test does not depend on the machine's.
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { TimezoneId = "UTC", ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            page.SetDefaultTimeout(90_000);
            await page.GotoAsync(ReidServer.BoundAddresses(app).First() + "/");
            await page.GetByTestId("api-key").FillAsync(key);
            await page.GetByTestId("connect").ClickAsync();

            await page.ClickAsync("button[data-tab=identify]");
            var form = page.Locator("#identify-form");
            await Assertions.Expect(form.Locator(".travel-only")).ToBeVisibleAsync();
            await page.GetByTestId("identify-images").SetInputFilesAsync(images[2]);
            await form.Locator("input[name=camera]").FillAsync("c1");
            await form.Locator("input[name=time]").FillAsync("2026-01-01T12:00");
            await page.GetByTestId("identify-submit").ClickAsync();
            var result = page.GetByTestId("identify-result");
            await Assertions.Expect(result).ToContainTextAsync("learned evidence for 2 of 2 candidate sighting(s) (camera c1, 2026-01-01 12:00:00Z)");
            await Assertions.Expect(result).ToContainTextAsync("seen at c2");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir(), "identify-travel-times.png"), FullPage = true });

            await page.ClickAsync("button[data-tab=search]");
            var search = page.Locator("#search-form");
            await page.GetByTestId("search-images").SetInputFilesAsync(images[2]);
            await search.Locator("input[name=camera]").FillAsync("c1");
            await search.Locator("input[name=time]").FillAsync("2026-01-01T12:00");
            await page.GetByTestId("search-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("search-result")).ToContainTextAsync("rescaled by travel time");

            // Without a time the answer says it is appearance only.
            await page.ClickAsync("button[data-tab=identify]");
            await form.Locator("input[name=time]").FillAsync("");
            await page.GetByTestId("identify-submit").ClickAsync();
            await Assertions.Expect(result).ToContainTextAsync("the probe has no time: appearance only");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [BrowserFact]
    public async Task A_wrong_key_is_reported_in_the_page()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        ApiKeys.EnsureAdminKey(gallery.Store);
        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery);
        await app.StartAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromium(playwright);
            var page = await browser.NewPageAsync();
            await page.GotoAsync(ReidServer.BoundAddresses(app).First() + "/");
            await page.GetByTestId("api-key").FillAsync("reid_wrong");
            await page.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("invalid or revoked API key");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [BrowserFact]
    public async Task Video_uploads_enrol_and_identify_a_tracked_person()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var key = ApiKeys.EnsureAdminKey(gallery.Store)!;
        using var video = new VideoJobs(gallery, () => new Reid.Video.VideoPersonExtractor(Reid.Video.VideoConfig.LoadDefault(), SharedData.YoloxNano, model.Onnx));
        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery, video);
        await app.StartAsync();
        var shots = ScreenshotDir();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromium(playwright);
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            page.SetDefaultTimeout(180_000);
            page.Dialog += async (_, d) => await d.AcceptAsync();
            await page.GotoAsync(ReidServer.BoundAddresses(app).First() + "/");
            await page.GetByTestId("api-key").FillAsync(key);
            await page.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(page.GetByTestId("enrol-video")).ToBeVisibleAsync();

            await page.GetByTestId("enrol-name").FillAsync("walker");
            await page.GetByTestId("enrol-video").SetInputFilesAsync(SharedData.Video);
            // the timeline comes first: rate, length and ten thumbnails, each standing for a tenth of the video
            var timeline = page.GetByTestId("enrol-timeline");
            await Assertions.Expect(timeline.Locator(".cell")).ToHaveCountAsync(10);
            await Assertions.Expect(timeline).ToContainTextAsync("1394 frames at 10 frames/s, 139.4 s");
            await Assertions.Expect(timeline).ToContainTextAsync("frame 1 is at 0.0 s");
            // a click on the first picture, then on the second, chooses the first two tenths
            await page.GetByTestId("enrol-timeline-cell-0").ClickAsync();
            await page.GetByTestId("enrol-timeline-cell-1").ClickAsync();
            await Assertions.Expect(page.GetByTestId("enrol-from")).ToHaveValueAsync("1");
            await Assertions.Expect(page.GetByTestId("enrol-to")).ToHaveValueAsync("278");
            await Assertions.Expect(timeline).ToContainTextAsync("Range: frames 1–278, 0:00.0–0:27.7 (27.8 s)");
            await Assertions.Expect(timeline.Locator(".cell.in")).ToHaveCountAsync(2);
            // the same range in seconds, and back
            await page.GetByTestId("enrol-unit").SelectOptionAsync("seconds");
            await Assertions.Expect(page.GetByTestId("enrol-to")).ToHaveValueAsync("27.7");
            await page.GetByTestId("enrol-unit").SelectOptionAsync("frames");
            await Assertions.Expect(page.GetByTestId("enrol-to")).ToHaveValueAsync("278");
            await WaitForImages(page, "enrol-timeline");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "7a-enrollment-video-timeline.png"), FullPage = true });
            await page.GetByTestId("enrol-from").FillAsync("60");
            await page.GetByTestId("enrol-to").FillAsync("110");
            await Assertions.Expect(timeline).ToContainTextAsync("Range: frames 60–110, 0:05.9–0:10.9 (5.1 s)");
            await page.GetByTestId("enrol-submit").ClickAsync();
            var enrolTrack = page.Locator("[data-testid^=enrol-track-]").First;
            await Assertions.Expect(enrolTrack).ToBeVisibleAsync(new() { Timeout = 240_000 });
            await Assertions.Expect(page.GetByTestId("enrol-result")).ToContainTextAsync(new Regex(@"frames \d+–\d+"));
            // the person walking in is cut at the frame border at first: that crop is greyed with its reason
            await Assertions.Expect(page.GetByTestId("enrol-result").Locator("figure.flawed").First).ToContainTextAsync("cut at frame border");
            await Assertions.Expect(page.GetByTestId("enrol-result")).ToContainTextAsync("left out (greyed)");
            await WaitForImages(page, "enrol-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "7-enrollment-video-tracks.png"), FullPage = true });
            await enrolTrack.ClickAsync();
            await Assertions.Expect(page.GetByTestId("enrol-result")).ToContainTextAsync("Enrolled walker", new() { Timeout = 60_000 });

            await page.GetByRole(AriaRole.Tab, new() { Name = "Identification" }).ClickAsync();
            await page.GetByTestId("identify-video").SetInputFilesAsync(SharedData.Video);
            // the same stretch in seconds: frame 60 is at 5.9 s, frame 110 at 10.9 s
            await page.SelectOptionAsync("#identify-form [name=unit]", "seconds");
            await page.FillAsync("#identify-form [name=from]", "5.9");
            await page.FillAsync("#identify-form [name=to]", "10.9");
            await Assertions.Expect(page.GetByTestId("identify-timeline")).ToContainTextAsync("Range: frames 60–110");
            await page.GetByTestId("identify-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("identify-result")).ToContainTextAsync("This is walker", new() { Timeout = 240_000 });
            await WaitForImages(page, "identify-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "8-identification-video.png"), FullPage = true });
            Assert.Equal(1, gallery.Store.CountIdentities());

            // verification takes a video too: each tracked person checked against the claimed identity
            await page.GetByRole(AriaRole.Tab, new() { Name = "Verification" }).ClickAsync();
            await page.GetByTestId("verify-identity").SelectOptionAsync(new[] { "1" });   // walker is identity #1
            await page.GetByTestId("verify-video").SetInputFilesAsync(SharedData.Video);
            await page.FillAsync("#verify-form [name=from]", "60");
            await page.FillAsync("#verify-form [name=to]", "110");
            await page.GetByTestId("verify-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("verify-result")).ToContainTextAsync("Yes, this is walker", new() { Timeout = 240_000 });
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "9-verification-video.png"), FullPage = true });

            // search takes a video too: the sightings most like each tracked person, walker's own first
            await page.GetByRole(AriaRole.Tab, new() { Name = "Search" }).ClickAsync();
            await page.GetByTestId("search-video").SetInputFilesAsync(SharedData.Video);
            await page.FillAsync("#search-form [name=from]", "60");
            await page.FillAsync("#search-form [name=to]", "110");
            await page.GetByTestId("search-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("search-result").Locator(".track .card").First).ToContainTextAsync("walker", new() { Timeout = 240_000 });
            await WaitForImages(page, "search-result");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "9b-search-video.png"), FullPage = true });

            // calibrating on a stretch where one person walks alone proves no two people different: the UI says so
            await page.GetByRole(AriaRole.Tab, new() { Name = "Gallery" }).ClickAsync();
            await page.GetByTestId("calibrate-video").SetInputFilesAsync(SharedData.Video);
            await page.FillAsync("#calibrate-form [name=to]", "110");
            await page.GetByTestId("calibrate-submit").ClickAsync();
            await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("people seen at the same time", new() { Timeout = 240_000 });
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "10-calibration-refused.png"), FullPage = true });

            // one of walker's crops is removed from the gallery: the others stay, and so does walker
            await page.GetByTestId("gallery-list").Locator(".card").First.ClickAsync();
            var detail = page.GetByTestId("gallery-detail");
            await Assertions.Expect(detail.Locator("[data-testid^=remove-sighting-]").First).ToBeVisibleAsync();
            var before = await detail.Locator(".card").CountAsync();
            Assert.True(before >= 2, $"walker has {before} crops");
            await WaitForImages(page, "gallery-detail");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "10b-gallery-crops-with-remove.png"), FullPage = true });
            await detail.Locator("[data-testid^=remove-sighting-]").First.ClickAsync();
            await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync($"walker has {before - 1} crops left");
            await Assertions.Expect(detail.Locator(".card")).ToHaveCountAsync(before - 1);
            await Assertions.Expect(page.GetByTestId("gallery-list")).ToContainTextAsync($"{before - 1} crops");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "10c-gallery-crop-removed.png"), FullPage = true });
            Assert.Equal(before - 1, gallery.Store.GetSightings(1).Count);
            Assert.Equal(before - 1, gallery.Index.SightingsOf(1).Count);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [BrowserFact]
    public async Task A_sign_in_link_a_read_only_key_a_repeated_name_and_a_phone_screen()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        ApiKeys.EnsureAdminKey(gallery.Store);
        var readKey = gallery.Store.CreateApiKey("viewer", KeyRole.Read, "test");
        var signIn = new SignInLinks();
        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery, signIn: signIn);
        await app.StartAsync();
        var shots = ScreenshotDir();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchChromium(playwright);
            var origin = ReidServer.BoundAddresses(app).First();
            var code = signIn.Issue();

            // The link `reid serve` prints signs the page in with a key of its own, and leaves the address bar clean.
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            page.SetDefaultTimeout(90_000);
            await page.GotoAsync($"{origin}/#signin={code}");
            await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("write key");
            await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("Signed in");
            Assert.DoesNotContain("signin", page.Url);

            // A second "Anna" is allowed, with a warning; the form is cleared after each enrolment.
            var anna = ImagesOf("0002", 2);
            foreach (var image in anna)
            {
                await page.GetByTestId("enrol-name").FillAsync("Anna");
                await page.GetByTestId("enrol-images").SetInputFilesAsync(image);
                await page.GetByTestId("enrol-submit").ClickAsync();
                await Assertions.Expect(page.GetByTestId("enrol-result")).ToContainTextAsync("Enrolled Anna");
                await Assertions.Expect(page.GetByTestId("enrol-name")).ToHaveValueAsync("");
            }
            await Assertions.Expect(page.GetByTestId("message")).ToContainTextAsync("already named Anna");
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "11-second-anna-warning.png"), FullPage = true });

            // The link works once.
            var again = await browser.NewPageAsync();
            await again.GotoAsync($"{origin}/#signin={code}");
            await Assertions.Expect(again.GetByTestId("message")).ToContainTextAsync("used already");
            // Without a key the gallery is "not signed in", not "empty".
            await again.GetByRole(AriaRole.Tab, new() { Name = "Gallery" }).ClickAsync();
            await Assertions.Expect(again.GetByTestId("gallery-list")).ToContainTextAsync("Not signed in");

            // A read-only key is not shown what it cannot do: no Enrollment tab, no Delete, no calibration, no crop removal.
            gallery.AddSightings(1, [new ImageInput("anna.jpg", File.ReadAllBytes(anna[1]))]);
            var reader = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            await reader.GotoAsync(origin + "/");
            await reader.GetByTestId("api-key").FillAsync(readKey);
            await reader.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(reader.GetByTestId("status")).ToContainTextAsync("read key");
            await Assertions.Expect(reader.GetByRole(AriaRole.Tab, new() { Name = "Enrollment" })).ToBeHiddenAsync();
            await reader.GetByRole(AriaRole.Tab, new() { Name = "Gallery" }).ClickAsync();
            await Assertions.Expect(reader.GetByTestId("gallery-list").Locator(".card")).ToHaveCountAsync(2);
            await Assertions.Expect(reader.GetByTestId("delete-1")).ToBeHiddenAsync();
            await reader.GetByTestId("gallery-list").Locator(".card").First.ClickAsync();
            await Assertions.Expect(reader.GetByTestId("gallery-detail").Locator(".card")).ToHaveCountAsync(2);
            await Assertions.Expect(reader.Locator("[data-testid^=remove-sighting-]")).ToHaveCountAsync(2);
            await Assertions.Expect(reader.Locator("[data-testid^=remove-sighting-]").First).ToBeHiddenAsync();
            await reader.ScreenshotAsync(new() { Path = Path.Combine(shots, "12-read-only-key.png"), FullPage = true });

            // A phone-width screen: nothing wider than the screen.
            var phone = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
            await phone.GotoAsync(origin + "/");
            await phone.GetByTestId("api-key").FillAsync(readKey);
            await phone.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(phone.GetByTestId("status")).ToContainTextAsync("read key");
            await phone.GetByRole(AriaRole.Tab, new() { Name = "Gallery" }).ClickAsync();
            await Assertions.Expect(phone.GetByTestId("gallery-list").Locator(".card")).ToHaveCountAsync(2);
            var overflow = await phone.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 1, $"the page is {overflow} px wider than a 390-px screen");
            await phone.ScreenshotAsync(new() { Path = Path.Combine(shots, "13-phone-width.png"), FullPage = true });
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    // Crops are fetched with the key and shown through blob URLs: wait until every one has pixels.
    private static Task WaitForImages(IPage page, string testId) =>
        page.WaitForFunctionAsync($"() => [...document.querySelectorAll('[data-testid=\"{testId}\"] img')].every(i => i.complete && i.naturalWidth > 0)");
}

/// <summary>A test that needs ../shared and Debian's Chromium: skipped, saying which is missing, otherwise.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string Chromium = "/usr/bin/chromium";

    public BrowserFactAttribute()
    {
        if (!SharedData.Available) Skip = SharedData.SkipReason;
        else if (!File.Exists(Chromium)) Skip = $"{Chromium} is absent (apt-get install chromium); browser tests never download a browser";
    }
}

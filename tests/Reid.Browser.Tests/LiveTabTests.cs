using Microsoft.Playwright;
using Reid.Core;
using Reid.Gallery;
using Reid.Gallery.Live;
using Reid.Gallery.Video;
using Reid.Imaging;
using Reid.Server;
using Reid.TestSupport;
using Reid.Video.Decoding;
using Reid.Video.Tracking;

namespace Reid.Browser.Tests;

/// <summary>
/// The Live tab in Debian's Chromium against a real server whose hub and frames are fed as the watcher feeds them
/// (a person stored on two cameras, events, statuses, annotated frames built from Market-1501 crops on a plain
/// background): tiles, a pushed event, the person's path. Screenshot: artifacts/screenshots/7-live.png.
/// </summary>
public class LiveTabTests
{
    static LiveTabTests() => Assertions.SetDefaultExpectTimeout(60_000);

    private static VideoFrame Scene(long number, params (string Crop, int X, int Y)[] people)
    {
        var image = RgbImage.Blank(768, 432);
        for (int y = 0; y < 432; y++)
        for (int x = 0; x < 768; x++)
        {
            int i = 3 * (y * 768 + x);
            byte v = (byte)(y < 250 ? 150 + y / 10 : 95 + (x + y) % 7);   // a wall above a floor
            (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]) = (v, (byte)(v - 5), (byte)(v - 15));
        }
        foreach (var (path, px, py) in people)
        {
            var crop = ImageCodec.Decode(path);
            for (int y = 0; y < crop.Height; y++)
                Array.Copy(crop.Pixels, y * crop.Stride, image.Pixels, ((py + y) * 768 + px) * 3, crop.Stride);
        }
        return new VideoFrame(number, number / 10.0, image);
    }

    [BrowserFact]
    public async Task The_live_tab_shows_cameras_pushed_events_and_a_persons_path()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var key = ApiKeys.EnsureAdminKey(gallery.Store)!;
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-3);
        var anna = SharedData.MarketImagesOf("0002", 7);
        var ben = SharedData.MarketImagesOf("0007", 2);
        ImageInput At(string path, string camera, double seconds) =>
            new ImageInput(Path.GetFileName(path), File.ReadAllBytes(path)).SeenAt(camera, t0.AddSeconds(seconds));
        var person = gallery.Enrol("person-0001", [At(anna[0], "door", 0), At(anna[1], "door", 2), At(anna[2], "door", 4)], actor: "test").Identity;
        gallery.AddSightings(person.Id, [At(anna[3], "hall", 45), At(anna[4], "hall", 48)], "test");
        gallery.AddSightings(person.Id, [At(anna[5], "door", 120), At(anna[6], "door", 123)], "test");

        var live = new LiveHost();
        live.Hub.Expect(["door", "hall", "yard"]);
        live.Hub.Publish(new CameraStatusDto("status", "door", "live", 9.8, 1200, 1210, 0, 0, 768, 432, null, null));
        live.Hub.Publish(new CameraStatusDto("status", "hall", "stalled", 0, 800, 800, 3, 1, 768, 432, "no frame for 10 s", null));
        live.Hub.Publish(new CameraStatusDto("status", "yard", "failed", 0, 0, 0, 0, 5, null, null, "tcp://10.0.0.9:9000: Connection refused", null));
        live.Frames.Offer("door", Scene(1, (anna[6], 300, 200), (ben[0], 520, 230)),
            [new TrackedBox(1, new BoundingBox(300, 200, 64, 128), true), new TrackedBox(2, new BoundingBox(520, 230, 64, 128), true)]);
        live.Frames.Learn("door", 1, "person-0001");
        live.Frames.Offer("hall", Scene(1, (anna[4], 150, 180)), [new TrackedBox(4, new BoundingBox(150, 180, 64, 128), true)]);
        live.Frames.Learn("hall", 4, "person-0001");
        AssociationEvent Event(string kind, string camera, int track, double start, double end, string? linked = null, int? linkedTrack = null) =>
            new(kind, camera, track, person.Id, "person-0001", kind == AssociationKinds.NewIdentity ? null : 0.83, t0.AddSeconds(start), t0.AddSeconds(end),
                linked, linkedTrack, 3, true);
        live.Hub.Publish(Event(AssociationKinds.NewIdentity, "door", 1, 0, 4));
        live.Hub.Publish(Event(AssociationKinds.Link, "hall", 4, 45, 48, "door", 1));

        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery, live: live);
        await app.StartAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = BrowserFactAttribute.Chromium, Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            page.SetDefaultTimeout(60_000);
            var origin = ReidServer.BoundAddresses(app).First();
            await page.GotoAsync(origin + "/");
            await page.GetByTestId("api-key").FillAsync(key);
            await page.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("identities");
            await page.GetByRole(AriaRole.Tab, new() { Name = "Live" }).ClickAsync();

            // A tile per camera with its status; frames where a camera delivered one.
            var tiles = page.GetByTestId("live-cameras").Locator(".tile");
            await Assertions.Expect(tiles).ToHaveCountAsync(3);
            await Assertions.Expect(page.GetByTestId("tile-door")).ToContainTextAsync("live");
            await Assertions.Expect(page.GetByTestId("tile-door")).ToContainTextAsync("9.8 fps");
            await Assertions.Expect(page.GetByTestId("tile-hall")).ToContainTextAsync("stalled");
            await Assertions.Expect(page.GetByTestId("tile-yard")).ToContainTextAsync("Connection refused");
            await page.WaitForFunctionAsync("() => ['door','hall'].every(c => { const i = document.querySelector(`[data-testid=tile-${c}] img`); return i && i.complete && i.naturalWidth === 768; })");
            await Assertions.Expect(page.GetByTestId("tile-yard")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("no-frame"));

            // The events so far (resumed from the hub's ring), then one pushed while the page is open: newest first.
            var feed = page.GetByTestId("live-feed").Locator("[data-testid=live-event]");
            await Assertions.Expect(feed).ToHaveCountAsync(2);
            live.Hub.Publish(Event(AssociationKinds.Sighting, "door", 9, 120, 123));
            await Assertions.Expect(feed).ToHaveCountAsync(3);
            await Assertions.Expect(feed.First).ToContainTextAsync("seen again");
            await Assertions.Expect(feed.Nth(1)).ToContainTextAsync("linked from door");

            // The person's path: door → hall → door, with crops.
            await feed.First.GetByRole(AriaRole.Button, new() { Name = "person-0001" }).ClickAsync();
            var path = page.GetByTestId("live-path");
            await Assertions.Expect(path.Locator(".route")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("door .* → hall .* → door"));
            await Assertions.Expect(path.Locator(".lane")).ToHaveCountAsync(2);
            await Assertions.Expect(path.Locator(".visit")).ToHaveCountAsync(3);
            await Assertions.Expect(path.Locator(".visit img")).ToHaveCountAsync(7);
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=live-path] img')].every(i => i.complete && i.naturalWidth > 0)");

            var shots = Path.Combine(ProjectPaths.RepoRoot ?? Path.GetTempPath(), "artifacts", "screenshots");
            Directory.CreateDirectory(shots);
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "7-live.png"), FullPage = true });
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [BrowserFact]
    public async Task The_live_tab_follows_a_real_watcher_on_a_looped_video()
    {
        using var dir = new TempDir();
        using var model = GalleryModels.Open(SharedData.OsnetMsmt17);
        var gallery = new GalleryService(GalleryStore.Open(dir.Path), model);
        var key = ApiKeys.EnsureAdminKey(gallery.Store)!;
        File.WriteAllText(Path.Combine(dir.Path, "cameras.yaml"), $"cameras:\n  - id: door\n    url: {SharedData.Video}\n    loop: true\n    max_fps: 5\n" +
            "  - id: yard\n    url: tcp://127.0.0.1:9\n");
        var cameras = Reid.Video.Streams.CameraList.Load(Path.Combine(dir.Path, "cameras.yaml"));
        var cfg = Reid.Video.VideoConfig.LoadDefault();
        var associator = new OnlineAssociator(gallery, new OnlineAssociatorOptions { Actor = "test" });
        var hub = new WatchEventHub();
        var frames = new LiveFrames();
        // As `reid serve --watch` wires it (ServeCommand.OpenWatch).
        var live = new LiveHost(hub, frames, ct => LiveWatch.Run(cameras, _ => new Reid.Video.VideoPersonExtractor(cfg, SharedData.YoloxNano, model.Onnx),
            associator, new CameraWatchOptions { StatusEvery = TimeSpan.FromSeconds(1) }, hub, frames, ct));
        var app = ReidServer.Build(new ServerOptions(dir.Path, "http://127.0.0.1:0"), gallery, live: live);
        await app.StartAsync();
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = BrowserFactAttribute.Chromium, Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            });
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
            page.SetDefaultTimeout(120_000);
            var origin = ReidServer.BoundAddresses(app).First();
            await page.GotoAsync(origin + "/");
            await page.GetByTestId("api-key").FillAsync(key);
            await page.GetByTestId("connect").ClickAsync();
            await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("identities");
            await page.GetByRole(AriaRole.Tab, new() { Name = "Live" }).ClickAsync();
            await Assertions.Expect(page.GetByTestId("live-note")).ToContainTextAsync("Watching 2 cameras");
            await Assertions.Expect(page.GetByTestId("tile-door")).ToContainTextAsync("live", new() { Timeout = 120_000 });
            await Assertions.Expect(page.GetByTestId("tile-door")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"\d\.\d fps"));
            await Assertions.Expect(page.GetByTestId("tile-yard")).Not.ToContainTextAsync("live");
            await Assertions.Expect(page.GetByTestId("tile-yard").Locator(".tile-error")).ToContainTextAsync(new System.Text.RegularExpressions.Regex(".+"));
            // A person is followed: the event arrives, and the frame is drawn with the name it got.
            var feed = page.GetByTestId("live-feed").Locator("[data-testid=live-event]");
            await Assertions.Expect(feed.First).ToContainTextAsync("person-0001", new() { Timeout = 180_000 });
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('[data-testid=tile-door] img'); return i && i.complete && i.naturalWidth > 0; }");
            await feed.Last.GetByRole(AriaRole.Button).ClickAsync();
            await Assertions.Expect(page.GetByTestId("live-path").Locator(".visit img").First).ToBeVisibleAsync();
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('[data-testid=live-path] img')].every(i => i.complete && i.naturalWidth > 0)");
            await Task.Delay(1500);   // the next frame refresh, so the tile shows a frame drawn after the name was known
            var shots = Path.Combine(ProjectPaths.RepoRoot ?? Path.GetTempPath(), "artifacts", "screenshots");
            Directory.CreateDirectory(shots);
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, "7c-live-real-watcher.png"), FullPage = true });
        }
        finally
        {
            // Stopping the server stops the watcher, which stores its open tracks.
            await app.StopAsync();
            await app.DisposeAsync();
        }
        Assert.NotEmpty(gallery.Store.ListIdentities());
        Assert.All(gallery.Store.ListIdentities(), i => Assert.True(i.SightingCount > 0));
    }
}

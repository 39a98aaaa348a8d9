using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Reid.Gallery;
using Reid.Server;
using static Reid.Gallery.Tests.Fixtures;

namespace Reid.Server.Tests;

public class ServerTests
{
    private static (string, byte[]) Img(int person, int shot) => ($"p{person}_{shot}.jpg", PersonJpeg(person, shot));

    private static async Task<JsonElement> Json(HttpResponseMessage r) =>
        JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Enrol_identify_verify_search_browse_and_delete_over_http()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(server.WriteKey);
        var enrol = await http.PostAsync("/api/identities", TestServer.Form([Img(0, 0), Img(0, 1)], ("name", "Alice"), ("metadata", """{"badge":"A-1"}""")));
        Assert.Equal(HttpStatusCode.Created, enrol.StatusCode);
        var alice = (await Json(enrol)).GetProperty("identity").GetProperty("id").GetInt64();
        var bob = await http.PostAsync("/api/identities", TestServer.Form([Img(1, 0)], ("name", "Bob")));
        Assert.True(bob.StatusCode == HttpStatusCode.Created, await bob.Content.ReadAsStringAsync());

        var identify = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(0, 5)])));
        Assert.False(identify.GetProperty("unknown").GetBoolean());
        var best = identify.GetProperty("matches")[0];
        Assert.Equal(alice, best.GetProperty("identity").GetInt64());
        Assert.Equal("Alice", best.GetProperty("name").GetString());
        var crop = await http.GetAsync(best.GetProperty("crop").GetString());
        Assert.Equal("image/jpeg", crop.Content.Headers.ContentType!.MediaType);

        var verify = await Json(await http.PostAsync("/api/verify", TestServer.Form([Img(1, 5)], ("identity", alice.ToString()))));
        Assert.False(verify.GetProperty("match").GetBoolean());
        Assert.Equal(2, verify.GetProperty("samples").GetArrayLength());

        var search = await Json(await http.PostAsync("/api/search", TestServer.Form([Img(0, 5)], ("k", "2"))));
        Assert.Equal(2, search.GetArrayLength());

        var list = await Json(await http.GetAsync("/api/identities"));
        Assert.True(list.GetArrayLength() == 2, list.ToString());
        Assert.Equal("A-1", list[0].GetProperty("metadata").GetProperty("badge").GetString());

        Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync($"/api/identities/{alice}?reason=request")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"/api/identities/{alice}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/identities/{alice}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(best.GetProperty("crop").GetString())).StatusCode);
        Assert.Contains(server.Gallery.Store.ReadAudit(action: "delete"), a => a.IdentityId == alice && a.Actor.StartsWith("api-key:"));
    }

    [Fact]
    public async Task One_sighting_is_removed_over_http_and_identify_no_longer_finds_it()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(server.WriteKey);
        // Alice's enrolment holds one crop of another person by mistake: that crop is what makes probes of them "Alice"
        var enrol = await Json(await http.PostAsync("/api/identities", TestServer.Form([Img(0, 0), Img(0, 1), Img(1, 0)], ("name", "Alice"))));
        var alice = enrol.GetProperty("identity").GetProperty("id").GetInt64();
        var wrong = enrol.GetProperty("sightings")[2].GetProperty("id").GetInt64();
        var before = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(1, 5)])));
        Assert.False(before.GetProperty("unknown").GetBoolean());
        Assert.Equal($"/api/sightings/{wrong}/crop", before.GetProperty("matches")[0].GetProperty("crop").GetString());

        using var reader = server.Client(server.ReadKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync($"/api/sightings/{wrong}")).StatusCode);
        var removed = await http.DeleteAsync($"/api/sightings/{wrong}?reason=another%20person");
        var answer = await Json(removed);
        Assert.True(removed.StatusCode == HttpStatusCode.OK, answer.ToString());
        Assert.Equal((wrong, alice, 2), (answer.GetProperty("deleted").GetInt64(), answer.GetProperty("identity").GetInt64(), answer.GetProperty("sightings_left").GetInt32()));

        var after = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(1, 5)])));
        Assert.True(after.GetProperty("unknown").GetBoolean(), after.ToString());
        Assert.DoesNotContain(after.GetProperty("matches").EnumerateArray(), m => m.GetProperty("crop").GetString() == $"/api/sightings/{wrong}/crop");
        var stillAlice = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(0, 5)])));
        Assert.Equal(alice, stillAlice.GetProperty("matches")[0].GetProperty("identity").GetInt64());
        Assert.Equal(2, stillAlice.GetProperty("matches")[0].GetProperty("sightings").GetInt32());
        var detail = await Json(await http.GetAsync($"/api/identities/{alice}"));
        Assert.Equal(2, detail.GetProperty("identity").GetProperty("sightings").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"/api/sightings/{wrong}/crop")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync($"/api/sightings/{wrong}")).StatusCode);

        // the last sighting stays: an identity without one could never be found again
        await http.DeleteAsync($"/api/sightings/{detail.GetProperty("sightings")[0].GetProperty("id").GetInt64()}");
        var last = await http.DeleteAsync($"/api/sightings/{detail.GetProperty("sightings")[1].GetProperty("id").GetInt64()}");
        Assert.Equal(HttpStatusCode.Conflict, last.StatusCode);
        Assert.Contains("delete the identity instead", (await Json(last)).GetProperty("error").GetString());
        Assert.Equal(1, server.Gallery.Index.Count);
    }

    [Fact]
    public async Task Identify_and_search_use_camera_and_time_with_the_servers_travel_time_model()
    {
        await using var server = await TestServer.StartAsync(travelTimes: MinuteWalkFromC1ToC2());
        using var http = server.Client(server.WriteKey);
        Assert.True((await Json(await http.GetAsync("/api/info"))).GetProperty("travel_times").GetBoolean());
        // Two look-alikes enrolled over HTTP with camera and time: "far" has the probe's exact pixels but was at c2
        // three hours later, "near" a minute later.
        async Task<long> Enrol(string name, int shot, string time)
        {
            var r = await http.PostAsync("/api/identities", TestServer.Form([Img(0, shot)], ("name", name), ("camera", "c2"), ("time", time)));
            Assert.True(r.StatusCode == HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
            var sighting = (await Json(r)).GetProperty("sightings")[0];
            Assert.Equal("c2", sighting.GetProperty("camera").GetString());
            return (await Json(r)).GetProperty("identity").GetProperty("id").GetInt64();
        }
        var near = await Enrol("near", 1, "2026-01-01T12:01:00Z");
        var far = await Enrol("far", 7, "2026-01-01T15:00:00Z");

        var plain = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(0, 7)])));
        Assert.Equal(far, plain.GetProperty("matches")[0].GetProperty("identity").GetInt64());
        Assert.Equal("the probe has no camera or time: appearance only", plain.GetProperty("spatial_temporal").GetString());

        var placed = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(0, 7)], ("camera", "c1"), ("time", "2026-01-01T12:00:00Z"))));
        Assert.Equal(near, placed.GetProperty("matches")[0].GetProperty("identity").GetInt64());
        Assert.Contains("learned evidence for 2 of 2", placed.GetProperty("spatial_temporal").GetString());
        var top = placed.GetProperty("matches")[0];
        Assert.True(top.GetProperty("score").GetSingle() > top.GetProperty("appearance_score").GetSingle());

        var search = await http.PostAsync("/api/search", TestServer.Form([Img(0, 7)], ("camera", "c1"), ("time", "2026-01-01T12:00:00Z")));
        var hits = await Json(search);
        Assert.Equal(near, hits[0].GetProperty("identity").GetInt64());
        Assert.Contains("learned evidence", search.Headers.GetValues(GalleryEndpointsHeader).Single());

        // Honesty: a probe without time is ranked by appearance alone, and the answer says so.
        var noTime = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(0, 7)], ("camera", "c1"))));
        Assert.Equal(far, noTime.GetProperty("matches")[0].GetProperty("identity").GetInt64());
        Assert.Equal("the probe has no time: appearance only", noTime.GetProperty("spatial_temporal").GetString());
        var badTime = await http.PostAsync("/api/identify", TestServer.Form([Img(0, 7)], ("camera", "c1"), ("time", "yesterday-ish")));
        Assert.Equal(HttpStatusCode.BadRequest, badTime.StatusCode);
        Assert.Contains("ISO 8601", await badTime.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_server_without_a_travel_time_model_says_camera_and_time_were_not_used()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(server.WriteKey);
        await http.PostAsync("/api/identities", TestServer.Form([Img(0, 0)], ("name", "A")));
        var r = await Json(await http.PostAsync("/api/identify", TestServer.Form([Img(0, 5)], ("camera", "c1"), ("time", "2026-01-01T12:00:00Z"))));
        Assert.Contains("no travel-time model", r.GetProperty("spatial_temporal").GetString());
        Assert.False(r.GetProperty("unknown").GetBoolean());
        var search = await http.PostAsync("/api/search", TestServer.Form([Img(0, 5)], ("camera", "c1"), ("time", "2026-01-01T12:00:00Z")));
        Assert.Contains("no travel-time model", search.Headers.GetValues(GalleryEndpointsHeader).Single());
    }

    private const string GalleryEndpointsHeader = "X-Reid-Spatial-Temporal";

    [Fact]
    public async Task Without_a_valid_key_every_write_is_refused_and_read_keys_cannot_write()
    {
        await using var server = await TestServer.StartAsync();
        using var writer = server.Client(server.WriteKey);
        var created = await writer.PostAsync("/api/identities", TestServer.Form([Img(0, 0)], ("name", "A")));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await Json(created)).GetProperty("identity").GetProperty("id").GetInt64();

        foreach (var (client, expected) in new[] { (server.Client(null), HttpStatusCode.Unauthorized), (server.Client("reid_not-a-key"), HttpStatusCode.Unauthorized),
                     (server.Client(server.ReadKey), HttpStatusCode.Forbidden) })
        {
            using var c = client;
            Assert.Equal(expected, (await c.PostAsync("/api/identities", TestServer.Form([Img(1, 0)], ("name", "intruder")))).StatusCode);
            Assert.Equal(expected, (await c.PostAsync($"/api/identities/{id}/sightings", TestServer.Form([Img(1, 0)]))).StatusCode);
            Assert.Equal(expected, (await c.DeleteAsync($"/api/identities/{id}")).StatusCode);
            var enrolUnknown = await c.PostAsync("/api/identify", TestServer.Form([Img(3, 0)], ("enrolUnknownAs", "intruder")));
            Assert.Equal(expected == HttpStatusCode.Forbidden ? HttpStatusCode.Forbidden : HttpStatusCode.Unauthorized, enrolUnknown.StatusCode);
        }
        Assert.Equal(1, server.Gallery.Store.CountIdentities());
        Assert.Equal(1, server.Gallery.Store.GetIdentity(id)!.SightingCount);

        using var reader = server.Client(server.ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await reader.PostAsync("/api/identify", TestServer.Form([Img(0, 1)]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/identities")).StatusCode);
        using var anonymous = server.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/identities")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);
    }

    public static TheoryData<string, byte[]> BadUploads => new()
    {
        { "corrupt.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 1, 2, 3, 4, 5, 6, 7] },
        { "truncated.jpg", PersonJpeg(0, 0)[..300] },
        { "huge-header.jpg", HugeHeaderJpeg() },
        { "empty.jpg", [] },
        { "notes.txt", "this is not an image"u8.ToArray() },
        { "animation.gif", "GIF89a\x01\x00\x01\x00\x00\x00\x00;"u8.ToArray() },
        { "random.png", [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 9, 9, 9] },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task Bad_uploads_get_a_4xx_with_a_clear_message_and_the_server_keeps_serving(string name, byte[] bytes)
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(server.WriteKey);
        foreach (var path in new[] { "/api/identities", "/api/identify", "/api/search" })
        {
            var r = await http.PostAsync(path, TestServer.Form([(name, bytes)], ("name", "X"), ("identity", "1")));
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var error = (await Json(r)).GetProperty("error").GetString()!;
            Assert.Contains(name, error);
        }
        Assert.Equal(0, server.Gallery.Store.CountIdentities());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/api/identities", TestServer.Form([Img(0, 0)], ("name", "after")))).StatusCode);
    }

    [Fact]
    public async Task Malformed_requests_and_oversized_bodies_are_refused_cleanly()
    {
        await using var server = await TestServer.StartAsync(o => o with { MaxImageRequestBytes = 256 * 1024 });
        using var http = server.Client(server.WriteKey);
        var json = await http.PostAsJsonAsync("/api/identify", new { images = "x" });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Contains("multipart", (await Json(json)).GetProperty("error").GetString());

        var noImages = await http.PostAsync("/api/identities", TestServer.Form([], ("name", "A")));
        Assert.Equal(HttpStatusCode.BadRequest, noImages.StatusCode);
        var noName = await http.PostAsync("/api/identities", TestServer.Form([Img(0, 0)]));
        Assert.Equal(HttpStatusCode.BadRequest, noName.StatusCode);
        var badMeta = await http.PostAsync("/api/identities", TestServer.Form([Img(0, 0)], ("name", "A"), ("metadata", "{oops")));
        Assert.Equal(HttpStatusCode.BadRequest, badMeta.StatusCode);
        var badK = await http.PostAsync("/api/search", TestServer.Form([Img(0, 0)], ("k", "many")));
        Assert.Equal(HttpStatusCode.BadRequest, badK.StatusCode);
        var verifyUnknown = await http.PostAsync("/api/verify", TestServer.Form([Img(0, 0)], ("identity", "424242")));
        Assert.Equal(HttpStatusCode.NotFound, verifyUnknown.StatusCode);

        // multipart bodies that lie about themselves: a 400 saying so, never a 500 or a stack trace
        foreach (var (body, boundary) in new[]
                 {
                     ("--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nA", "xyz"),       // never closed
                     ("this is not multipart at all", "xyz"),                                               // no boundary in the body
                     ("--xyz\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.jpg\"\r\n", "xyz"), // headers, then nothing
                     ("--a\r\n\r\n--a--\r\n", ""),                                                        // empty boundary
                 })
        {
            var content = new StringContent(body);
            content.Headers.Remove("Content-Type");
            content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");
            var bad = await http.PostAsync("/api/identities", content);
            var text = await bad.Content.ReadAsStringAsync();
            Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, $"{(int)bad.StatusCode} for {body}: {text}");
            Assert.DoesNotContain("   at ", text);
            Assert.False(string.IsNullOrEmpty((await Json(bad)).GetProperty("error").GetString()));
        }

        // Sent as careful clients send large bodies (Expect: 100-continue): the server refuses it before the body is sent. Without
        // it the server still answers 413, but it may close the connection while a slow client is still writing the body, and
        // that client then sees a broken pipe instead of the answer (CI on a loaded machine did).
        using var oversized = new HttpRequestMessage(HttpMethod.Post, "/api/identities")
        { Content = TestServer.Form([("big.jpg", new byte[400 * 1024])], ("name", "A")) };
        oversized.Headers.ExpectContinue = true;
        var big = await http.SendAsync(oversized);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        Assert.Equal(0, server.Gallery.Store.CountIdentities());
    }

    [Fact]
    public async Task Made_up_keys_from_one_address_get_429_once_its_allowance_is_spent_while_a_valid_key_still_works()
    {
        await using var server = await TestServer.StartAsync(o => o with { FailedAuthPerMinute = 5 });
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var guess = server.Client($"made-up-key-{i}");   // each its own key: the per-key buckets never fill
            codes.Add((await guess.GetAsync("/api/identities")).StatusCode);
        }
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 5), codes.Take(5));
        Assert.All(codes.Skip(5), c => Assert.Equal(HttpStatusCode.TooManyRequests, c));
        using var none = server.Client(null);
        var missing = await none.GetAsync("/api/identities");
        Assert.Equal(HttpStatusCode.TooManyRequests, missing.StatusCode);
        Assert.NotNull(missing.Headers.RetryAfter);
        using var good = server.Client(server.ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await good.GetAsync("/api/identities")).StatusCode);
    }

    [Fact]
    public async Task A_sign_in_code_buys_one_new_write_key_once()
    {
        var signIn = new SignInLinks();
        await using var server = await TestServer.StartAsync(signIn: signIn);
        using var anonymous = server.Client(null);
        var code = signIn.Issue();
        var first = await anonymous.PostAsync("/signin", new FormUrlEncodedContent([new("code", code)]));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var key = (await Json(first)).GetProperty("key").GetString()!;
        using var signedIn = server.Client(key);
        Assert.Equal(HttpStatusCode.Created, (await signedIn.PostAsync("/api/identities", TestServer.Form([Img(0, 0)], ("name", "A")))).StatusCode);
        Assert.Contains(server.Gallery.Store.ListApiKeys(), k => k.Label.StartsWith("web UI sign-in") && k.Role == KeyRole.Write);

        var twice = await anonymous.PostAsync("/signin", new FormUrlEncodedContent([new("code", code)]));
        Assert.Equal(HttpStatusCode.Unauthorized, twice.StatusCode);
        Assert.Contains("used already", (await Json(twice)).GetProperty("error").GetString());
        var expired = new SignInLinks(TimeSpan.FromTicks(-1));
        Assert.False(expired.Redeem(expired.Issue()));                  // a code past its lifetime buys nothing
    }

    [Fact]
    public async Task Requests_above_the_rate_limit_get_429()
    {
        await using var server = await TestServer.StartAsync(o => o with { PermitsPerSecond = 1, Burst = 3 });
        using var http = server.Client(server.ReadKey);
        var codes = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++) codes.Add((await http.GetAsync("/api/identities")).StatusCode);
        Assert.Contains(HttpStatusCode.TooManyRequests, codes);
        Assert.Equal(HttpStatusCode.OK, codes[0]);
    }

    [Fact]
    public async Task OpenApi_document_and_web_ui_are_served_without_external_resources()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(null);
        var doc = await Json(await http.GetAsync("/openapi/v1.json"));
        var paths = doc.GetProperty("paths");
        foreach (var p in new[] { "/api/identities", "/api/identify", "/api/verify", "/api/search", "/health" })
            Assert.True(paths.TryGetProperty(p, out _), $"OpenAPI lacks {p}");
        var html = await http.GetStringAsync("/");
        Assert.Contains("Enrollment", html);
        foreach (var asset in new[] { "/", "/app.js", "/app.css" })
        {
            var text = await http.GetStringAsync(asset);
            Assert.DoesNotMatch("(src|href)=\"https?://", text);
            Assert.DoesNotContain("@import url(http", text);
        }
    }

    [Fact]
    public async Task Concurrent_enrolments_and_identifications_lose_nothing()
    {
        await using var server = await TestServer.StartAsync();
        using var http = server.Client(server.WriteKey);
        var enrols = Enumerable.Range(0, 12).Select(async i =>
        {
            var r = await http.PostAsync("/api/identities", TestServer.Form([Img(i % 6, i)], ("name", $"n{i}")));
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        });
        var identifies = Enumerable.Range(0, 12).Select(async i =>
        {
            var r = await http.PostAsync("/api/identify", TestServer.Form([Img(i % 6, 100 + i)]));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        });
        await Task.WhenAll(enrols.Concat(identifies));
        Assert.Equal(12, server.Gallery.Store.CountIdentities());
        Assert.Equal(12, server.Gallery.Index.Count);
        Assert.Empty(server.Gallery.Store.CheckConsistency());
    }
}

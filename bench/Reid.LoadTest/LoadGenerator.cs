using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Reid.Server;
using Reid.Training.Benchmark;

namespace Reid.LoadTest;

public sealed record LoadTestResult(double Seconds, int IdentifyClients, int EnrolClients, int Requests, double RequestsPerSecond,
    double P50Ms, double P99Ms, int Identifies, double IdentifyP50Ms, double IdentifyP99Ms, int Enrolments, double EnrolP50Ms, double EnrolP99Ms,
    int Errors, IReadOnlyDictionary<string, int> ErrorKinds, int LostEnrolments, string Machine)
{
    /// <summary>Acknowledged enrolments that are stored but do not verify as themselves against their own first crop.</summary>
    public int UnfindableEnrolments { get; init; }
}

/// <summary>The HTTP load: identify clients post one probe each time, enrol clients post a new identity of two crops each time.</summary>
public static class LoadGenerator
{
    public static async Task<LoadTestResult> Run(Uri baseUri, string key, string[] files, TimeSpan duration, int identifyClients, int enrolClients)
    {
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(120) };
        http.DefaultRequestHeaders.Add(ApiKeys.Header, key);
        var bytes = files.Select(File.ReadAllBytes).ToArray();
        var run = $"load-{DateTime.UtcNow:HHmmss}-{Environment.ProcessId}";
        var identify = new ConcurrentBag<double>();
        var enrol = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>();
        var enrolled = new ConcurrentBag<long>();
        var firstCrop = new ConcurrentDictionary<long, int>();
        var deadline = Stopwatch.StartNew();

        MultipartFormDataContent Form(int[] picks, string? name)
        {
            var form = new MultipartFormDataContent();
            if (name is not null) form.Add(new StringContent(name), "name");
            foreach (var p in picks)
            {
                var part = new ByteArrayContent(bytes[p]);
                part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                form.Add(part, "images", Path.GetFileName(files[p]));
            }
            return form;
        }

        async Task Client(int seed, bool enrols)
        {
            var rng = new Random(seed);
            var n = 0;
            while (deadline.Elapsed < duration)
            {
                var t = Stopwatch.GetTimestamp();
                try
                {
                    var name = $"{run}-{seed}-{n++}";
                    int[] picks = enrols ? [rng.Next(bytes.Length), rng.Next(bytes.Length)] : [rng.Next(bytes.Length)];
                    using var r = enrols
                        ? await http.PostAsync("/api/identities", Form(picks, name))
                        : await http.PostAsync("/api/identify", Form(picks, null));
                    var ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                    if (!r.IsSuccessStatusCode) { errors.AddOrUpdate($"HTTP {(int)r.StatusCode}", 1, (_, c) => c + 1); continue; }
                    if (enrols)
                    {
                        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
                        var id = doc.RootElement.GetProperty("identity").GetProperty("id").GetInt64();
                        enrolled.Add(id);
                        firstCrop[id] = picks[0];
                        enrol.Add(ms);
                    }
                    else identify.Add(ms);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                {
                    errors.AddOrUpdate(e.GetType().Name, 1, (_, c) => c + 1);
                }
            }
        }

        var clients = Enumerable.Range(0, identifyClients).Select(i => Task.Run(() => Client(i, false)))
            .Concat(Enumerable.Range(0, enrolClients).Select(i => Task.Run(() => Client(1000 + i, true)))).ToArray();
        await Task.WhenAll(clients);
        var seconds = deadline.Elapsed.TotalSeconds;

        // Every acknowledged enrolment must be in the gallery, by id and with our run's name.
        var stored = new HashSet<long>();
        for (var offset = 0; ; offset += 1000)
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync($"/api/identities?q={run}&offset={offset}&limit=1000"));
            foreach (var i in doc.RootElement.EnumerateArray()) stored.Add(i.GetProperty("id").GetInt64());
            if (doc.RootElement.GetArrayLength() < 1000) break;
        }
        var lost = enrolled.Count(id => !stored.Contains(id));

        // Stored is not enough: each must be findable. Its own crop must verify as itself (score ~1 above any
        // threshold); an index that missed the enrolment answers "no match" or a 400 instead.
        var unfindable = 0;
        foreach (var (id, pick) in firstCrop.Where(e => stored.Contains(e.Key)))
        {
            using var form = Form([pick], null);
            form.Add(new StringContent(id.ToString(System.Globalization.CultureInfo.InvariantCulture)), "identity");
            using var r = await http.PostAsync("/api/verify", form);
            var found = false;
            if (r.IsSuccessStatusCode)
            {
                using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
                found = doc.RootElement.GetProperty("match").GetBoolean();
            }
            if (!found) unfindable++;
        }

        var all = identify.Concat(enrol).ToArray();
        return new LoadTestResult(seconds, identifyClients, enrolClients, all.Length, all.Length / seconds,
            Percentile(all, 0.5), Percentile(all, 0.99), identify.Count, Percentile(identify, 0.5), Percentile(identify, 0.99),
            enrol.Count, Percentile(enrol, 0.5), Percentile(enrol, 0.99), errors.Values.Sum(), errors, lost, BenchmarkMachine.Note())
        {
            UnfindableEnrolments = unfindable,
        };
    }

    private static double Percentile(IEnumerable<double> values, double p)
    {
        var a = values.Order().ToArray();
        return a.Length == 0 ? double.NaN : Math.Round(a[Math.Min(a.Length - 1, (int)Math.Ceiling(a.Length * p) - 1)], 2);
    }
}

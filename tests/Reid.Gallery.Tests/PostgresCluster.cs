using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Reid.Gallery.Tests;

/// <summary>
/// A throwaway PostgreSQL cluster for the tests: initdb in a temp folder, started on a free loopback port with
/// its socket in that folder, one fresh database per test, stopped and removed at the end. As root the cluster
/// runs as the `postgres` user (PostgreSQL refuses to run as root). Started on first use, so a class whose tests
/// are all skipped costs nothing.
/// </summary>
public sealed class PostgresCluster : IDisposable
{
    private static readonly Lazy<(string? Bin, string? Why)> Binaries = new(FindBinaries);

    /// <summary>Why the PostgreSQL tests cannot run here, or null when they can.</summary>
    public static string? UnavailableReason => Binaries.Value.Why;

    private readonly Lazy<(string Dir, int Port)> _running;
    private int _databases;

    public PostgresCluster() => _running = new Lazy<(string, int)>(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A new empty database on the cluster; returns its connection string.</summary>
    public string NewDatabase()
    {
        var (_, port) = _running.Value;
        var name = $"gallery_{Interlocked.Increment(ref _databases)}";
        using (var c = new NpgsqlConnection(ConnectionString(port, "postgres")))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            cmd.ExecuteNonQuery();
        }
        return ConnectionString(port, name);
    }

    private static string ConnectionString(int port, string database) =>
        $"Host=127.0.0.1;Port={port};Username=postgres;Database={database};Timeout=30";

    private static (string?, string?) FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("REID_TEST_NO_POSTGRES") == "1") return (null, "REID_TEST_NO_POSTGRES=1");
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin"))
            : [];
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator);
        var bin = candidates.Concat(path).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
        if (bin is null) return (null, "PostgreSQL server binaries (initdb, pg_ctl) not found: install the `postgresql` package (scripts/setup.sh does)");
        if (IsRoot && !UserExists("postgres")) return (null, "running as root and no `postgres` user to run the test cluster as");
        return (bin, null);
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static bool UserExists(string user) => File.ReadLines("/etc/passwd").Any(l => l.StartsWith(user + ":", StringComparison.Ordinal));

    private (string, int) Start()
    {
        var bin = Binaries.Value.Bin ?? throw new InvalidOperationException(UnavailableReason);
        var dir = Directory.CreateTempSubdirectory("reid-pg-").FullName;
        // The cluster's user must own its folder; a 0777 parent lets `postgres` create the data dir and socket.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        var data = Path.Combine(dir, "data");
        Run(bin, "initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
        var port = FreePort();
        Run(bin, "pg_ctl", ["-D", data, "-l", Path.Combine(dir, "log"), "-w", "-t", "60", "-o",
            $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200", "start"]);
        return (dir, port);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static void Run(string bin, string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(IsRoot ? "runuser" : Path.Combine(bin, tool))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        if (IsRoot) foreach (var a in new[] { "-u", "postgres", "--", Path.Combine(bin, tool) }) psi.ArgumentList.Add(a);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} failed ({p.ExitCode}): {stderr} {stdout.Result}");
    }

    public void Dispose()
    {
        if (!_running.IsValueCreated) return;
        var (dir, _) = _running.Value;
        NpgsqlConnection.ClearAllPools();
        try { Run(Binaries.Value.Bin!, "pg_ctl", ["-D", Path.Combine(dir, "data"), "-m", "immediate", "-w", "stop"]); }
        finally { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } }
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "postgres";
}

/// <summary>Marks a test class whose [StoreFact]s need PostgreSQL.</summary>
public interface INeedsPostgres;

/// <summary>Marks a PostgreSQL test class whose [StoreFact]s also need ../shared (a model, the shared video).</summary>
public interface INeedsPostgresAndSharedData : INeedsPostgres;

/// <summary>
/// A fact of the store contract: it runs for every store class deriving from the contract, and is skipped with
/// the reason when the class needs PostgreSQL and this machine has none (xunit 2 decides skips at discovery).
/// </summary>
[XunitTestCaseDiscoverer("Reid.Gallery.Tests.StoreFactDiscoverer", "Reid.Gallery.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class StoreFactAttribute : FactAttribute;

public sealed class StoreFactDiscoverer(IMessageSink sink) : FactDiscoverer(sink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo fact)
    {
        var type = method.TestClass.Class.ToRuntimeType();
        if ((typeof(INeedsPostgres).IsAssignableFrom(type) && PostgresCluster.UnavailableReason is not null) ||
            (typeof(INeedsPostgresAndSharedData).IsAssignableFrom(type) && !TestSupport.SharedData.Available))
            return new SkippedTestCase(DiagnosticMessageSink, options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault(), method);
        return base.CreateTestCase(options, method, fact);
    }
}

/// <summary>A contract test on PostgreSQL where there is none: skipped with the reason (computed again after
/// de-serialisation, since the base class may ask for it before a constructor body runs).</summary>
public sealed class SkippedTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public SkippedTestCase() { }

    public SkippedTestCase(IMessageSink sink, TestMethodDisplay display, TestMethodDisplayOptions displayOptions, ITestMethod method)
        : base(sink, display, displayOptions, method) { }

    protected override string GetSkipReason(IAttributeInfo factAttribute) =>
        PostgresCluster.UnavailableReason ?? (TestSupport.SharedData.Available ? null : TestSupport.SharedData.SkipReason)
        ?? "PostgreSQL was unavailable when the tests were discovered";
}

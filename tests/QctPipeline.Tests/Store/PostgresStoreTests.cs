using QctPipeline.Store;
using QctPipeline.Tests.Cli;
using QctPipeline.Tests.Compare;

namespace QctPipeline.Tests.Store;

/// <summary>The shared PostgreSQL store: the SQLite store's semantics, and many concurrent writers.</summary>
public sealed class PostgresStoreTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private ResultStore Open()
    {
        Environment.SetEnvironmentVariable("QCT_DB_PASSWORD", PostgresServer.Password);
        return ResultStore.Open(postgres.Url);
    }

    [Fact]
    public void Stores_replaces_and_reads_back_like_the_sqlite_store()
    {
        using var store = Open();
        var exam = LongitudinalComparatorTests.Exam("pg-1", "2025-03-05", 96.5) with { PatientId = "PG'); DROP TABLE exams; --", PatientPseudonym = store.Pseudonym("PG") };

        store.Upsert(exam);
        store.Upsert(exam with { VbmdMgPerCm3 = 97.25 });

        var read = Assert.Single(store.History(exam.PatientId!));
        Assert.Equal(exam with { VbmdMgPerCm3 = 97.25, QcFlags = read.QcFlags, Warnings = read.Warnings }, read);
        Assert.True(store.Contains("pg-1", exam.SoftwareVersion, exam.ModelVersion));
        using var again = Open();
        Assert.Equal(store.Pseudonym("PG"), again.Pseudonym("PG"));
    }

    [Fact]
    public void A_password_in_the_url_is_refused_and_a_wrong_one_fails_in_one_line_without_it()
    {
        var inUrl = Assert.Throws<ResultStoreException>(() => ResultStore.Open(postgres.Url.Replace("qct@", "qct:hunter2@", StringComparison.Ordinal)));
        Assert.DoesNotContain("hunter2", inUrl.Message, StringComparison.Ordinal);
        Assert.Contains("not a postgres://", Assert.Throws<ResultStoreException>(() => ResultStore.Open("postgres://")).Message, StringComparison.Ordinal);
        Assert.Contains("not a postgres://", Assert.Throws<ResultStoreException>(() => ResultStore.Open("postgres://127.0.0.1/db")).Message, StringComparison.Ordinal);

        var wrong = QctProcess.Run(new Dictionary<string, string> { ["QCT_DB_PASSWORD"] = "not-it" }, "history", "X", "--db", postgres.Url);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Single(wrong.Error.Trim().Split('\n'));
        Assert.DoesNotContain("not-it", wrong.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Four_concurrent_workers_store_every_study_exactly_once()
    {
        using var folder = new TempFolder();
        var manifest = folder.File("manifest.csv");
        var studies = new[] { "patient-a/2025-01-10", "patient-a/2025-07-11", "patient-b/2025-02-03", "patient-b/2025-08-04", "patient-c-mindways", "patient-d-venous" };
        File.WriteAllText(manifest, "path\r\n" + string.Concat(studies.Select(s => RepositoryFiles.Path(["sample-dicom", .. s.Split('/')]) + "\r\n")));
        string[] Worker(int k) => ["batch", manifest, "--shard", $"{k}/4", "--db", postgres.Url, "--out", folder.File($"out-{k}")];

        var workers = await Task.WhenAll(Enumerable.Range(0, 4).Select(k => Task.Run(() => QctProcess.Run(PostgresServer.Credentials, Worker(k)))));
        Assert.All(workers, w => Assert.True(w.ExitCode == 0, w.Output + w.Error));

        // Every worker again, all at once: everything is stored already, nothing is added.
        var again = await Task.WhenAll(Enumerable.Range(0, 4).Select(k => Task.Run(() => QctProcess.Run(PostgresServer.Credentials, Worker(k)))));
        Assert.All(again, w => Assert.Contains("0 analysed", w.Output, StringComparison.Ordinal));

        using var store = Open();
        var rows = store.All().Where(e => e.PatientId?.StartsWith("SAMPLE-", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(6, rows.Count);
        Assert.Equal(6, rows.Select(r => r.SeriesInstanceUid).Distinct().Count());
        Assert.Contains(store.History("SAMPLE-A"), e => e.StudyDate == new DateOnly(2025, 7, 11));
    }
}

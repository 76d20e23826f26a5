using Microsoft.Data.Sqlite;
using QctPipeline.Domain;
using QctPipeline.Store;
using QctPipeline.Tests.Cli;
using QctPipeline.Tests.Compare;

namespace QctPipeline.Tests.Store;

public sealed class ResultStoreTests
{
    private static ExamRecord Full(string series) => LongitudinalComparatorTests.Exam(series, "2025-03-05", 96.5) with
    {
        PatientPseudonym = "P-0000000000000000",
        StudyInstanceUid = "1.2.3",
        DeviceSerialNumber = "SN 42",
        ContrastDetected = true,
        ContrastPhase = "venous",
        CalibrationSlope = 1.3372,
        CalibrationIntercept = -1.25,
        CalibrationR = 0.99995,
        ModelName = "qct-l1",
        LevelUsable = true,
        MeanHu = 128.5,
        MedianHu = 127,
        SdHu = 36.6,
        EllipseMeanHu = 125.2,
        RoiVoxels = 1216,
        RoiVolumeMl = 6.84,
        EllipseVbmdMgPerCm3 = 94.1,
        L1L2VbmdMgPerCm3 = 99.25,
        L1L2Category = "low-bone-density",
        VbmdCi95 = (92.125, 100.875),
        VbmdCalibrationSd = 1.75,
        L1L2Ci95 = (96.5, 102.0),
        QcFlags = ["contrast-affected"],
        Warnings = ["a warning with \"quotes\" and ≥"],
        AnalysedAt = new DateTimeOffset(2026, 12, 1, 22, 0, 0, 123, TimeSpan.Zero),
    };

    [Fact]
    public void RoundTripsEveryFieldAndUsesTheStoresOwnPseudonymKey()
    {
        using var folder = new TempFolder();
        var exam = Full("1.2.3.4");
        using (var store = ResultStore.Open(folder.File("results.sqlite")))
        {
            store.Upsert(exam with { PatientPseudonym = store.Pseudonym("P1") });
            Assert.Equal(StoreSchemaVersion(folder.File("results.sqlite")), store.SchemaVersion);
        }

        using var reopened = ResultStore.Open(folder.File("results.sqlite"));
        var read = Assert.Single(reopened.History("P1"));
        Assert.Equal(exam with { PatientPseudonym = reopened.Pseudonym("P1"), QcFlags = read.QcFlags, Warnings = read.Warnings }, read);
        Assert.Equal(exam.QcFlags, read.QcFlags);
        Assert.Equal(exam.Warnings, read.Warnings);
        Assert.Matches("^P-[0-9a-f]{16}$", read.PatientPseudonym!);

        using var other = ResultStore.Open(folder.File("other.sqlite"));
        Assert.NotEqual(reopened.Pseudonym("P1"), other.Pseudonym("P1"));
    }

    [Fact]
    public void SameSeriesAndVersionsReplacesANewVersionAddsAndHistoryTakesTheNewest()
    {
        using var folder = new TempFolder();
        using var store = ResultStore.Open(folder.File("results.sqlite"));

        store.Upsert(Full("s1") with { VbmdMgPerCm3 = 100 });
        store.Upsert(Full("s1") with { VbmdMgPerCm3 = 101 });
        Assert.Equal(1, store.Count());
        Assert.Equal(101, store.Series("s1")!.VbmdMgPerCm3);

        store.Upsert(Full("s1") with { VbmdMgPerCm3 = 102, SoftwareVersion = "0.6.0", AnalysedAt = DateTimeOffset.UtcNow });
        store.Upsert(Full("s1") with { VbmdMgPerCm3 = 103, ModelVersion = "2", AnalysedAt = DateTimeOffset.UtcNow.AddSeconds(1) });
        Assert.Equal(3, store.Count());
        Assert.Equal(103, Assert.Single(store.History("P1")).VbmdMgPerCm3);
        Assert.True(store.Contains("s1", "0.6.0", "1"));
        Assert.False(store.Contains("s1", "0.7.0", "1"));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("x'); DROP TABLE exams; --")]
    [InlineData("tab\tnew\nline\u0001bell")]
    [InlineData("10 kB")]
    public void HostilePatientIdsAreStoredAsTheyAreAndDisturbNothingElse(string patientId)
    {
        using var folder = new TempFolder();
        using var store = ResultStore.Open(folder.File("results.sqlite"));
        store.Upsert(Full("other"));
        var hostile = (patientId == "10 kB" ? new string('A', 10_000) : patientId) + "\"'%_*";

        store.Upsert(Full("hostile") with { PatientId = hostile, PatientPseudonym = store.Pseudonym(hostile) });

        Assert.Equal(hostile, Assert.Single(store.History(hostile)).PatientId);
        Assert.Equal("other", Assert.Single(store.History("P1")).SeriesInstanceUid);
        Assert.Equal(2, store.Count());
        // Nothing is ever named after the ID: the store's own files are all there is.
        Assert.All(Directory.EnumerateFileSystemEntries(folder.Path), entry => Assert.StartsWith(folder.File("results.sqlite"), entry, StringComparison.Ordinal));
    }

    [Fact]
    public void MissingPatientIdAndDateAreStoredAsNull()
    {
        using var folder = new TempFolder();
        using var store = ResultStore.Open(folder.File("results.sqlite"));

        store.Upsert(Full("anonymous") with { PatientId = null, StudyDate = null });

        var read = store.Series("anonymous")!;
        Assert.Null(read.PatientId);
        Assert.Null(read.PatientPseudonym);
        Assert.Null(read.StudyDate);
    }

    [Fact]
    public void ANonDatabaseFileOrANewerSchemaIsOneLineNamingTheFile()
    {
        using var folder = new TempFolder();
        var notSqlite = folder.File("notes.sqlite");
        File.WriteAllText(notSqlite, "these are not the results you are looking for, padded to more than one page of text.\n" + new string('x', 5000));
        var error = Assert.Throws<ResultStoreException>(() => ResultStore.Open(notSqlite));
        Assert.StartsWith(notSqlite, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);

        var newer = folder.File("newer.sqlite");
        ResultStore.Open(newer).Dispose();
        using (var connection = new SqliteConnection($"Data Source={newer};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99;";
            command.ExecuteNonQuery();
        }

        var refused = Assert.Throws<ResultStoreException>(() => ResultStore.Open(newer));
        Assert.Contains("newer than this program", refused.Message, StringComparison.Ordinal);
        Assert.StartsWith(newer, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreOfSchemaOneGainsTheTwoLevelColumnsAndKeepsItsRows()
    {
        using var folder = new TempFolder();
        var path = folder.File("old.sqlite");
        using (var store = ResultStore.Open(path))
        {
            store.Upsert(Full("1.2.3.4") with { PatientPseudonym = store.Pseudonym("P1") });
        }

        // Back to schema 1 as an earlier release left it: without the columns migration 2 adds.
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "ALTER TABLE exams DROP COLUMN l1l2_vbmd; ALTER TABLE exams DROP COLUMN l1l2_category; " +
                "ALTER TABLE exams DROP COLUMN vbmd_ci_low; ALTER TABLE exams DROP COLUMN vbmd_ci_high; ALTER TABLE exams DROP COLUMN vbmd_calibration_sd; ALTER TABLE exams DROP COLUMN l1l2_ci_low; ALTER TABLE exams DROP COLUMN l1l2_ci_high; PRAGMA user_version = 1;";
            command.ExecuteNonQuery();
        }

        using var migrated = ResultStore.Open(path);
        Assert.Equal(3, StoreSchemaVersion(path));
        var read = Assert.Single(migrated.History("P1"));
        Assert.Equal(96.5, read.VbmdMgPerCm3);
        Assert.Null(read.L1L2VbmdMgPerCm3);
        Assert.Null(read.L1L2Category);
        Assert.Null(read.VbmdCi95);
        migrated.Upsert(read with { L1L2VbmdMgPerCm3 = 99.25, L1L2Category = "low-bone-density" });
        Assert.Equal(99.25, Assert.Single(migrated.History("P1")).L1L2VbmdMgPerCm3);
    }

    /// <summary>
    /// A `qct merge` child process is killed with SIGKILL part-way through 6000 rows (30 transactions); the store it was writing must pass
    /// SQLite's integrity check, hold only whole, readable rows (whole batches), and a rerun must finish with all of them.
    /// </summary>
    [Fact]
    public void KillingAWriterMidBatchLeavesTheStoreConsistentAndARerunCompletesIt()
    {
        using var folder = new TempFolder();
        var source = folder.File("worker.sqlite");
        var target = folder.File("merged.sqlite");
        const int total = 6000;
        using (var worker = ResultStore.Open(source))
        {
            worker.UpsertAll([.. Enumerable.Range(0, total).Select(n => Full($"1.2.{n}") with { PatientId = $"P{n % 97}", VbmdMgPerCm3 = n })]);
        }

        long killedAt = -1;
        for (var attempt = 0; attempt < 3 && killedAt < 0; attempt++)
        {
            File.Delete(target);
            using (var merge = QctProcess.Start("merge", source, "--db", target))
            {
                // Killed as soon as a first batch is committed: the rows written so far are seen by a reader.
                while (!merge.HasExited && RowsSoFar(target) == 0)
                {
                    Thread.Sleep(5);
                }

                merge.Kill();
                merge.WaitForExit();
            }

            using var partial = ResultStore.Open(target);
            var count = partial.Count();
            Assert.Equal("ok", IntegrityCheck(target));
            Assert.Equal(0, count % 200);
            Assert.All(partial.All(), row => Assert.Equal($"1.2.{(int)row.VbmdMgPerCm3!.Value}", row.SeriesInstanceUid));
            if (count is > 0 and < total)
            {
                killedAt = count;
            }
        }

        Assert.True(killedAt > 0, "no attempt killed the merge between its first and last batch");
        var rerun = QctProcess.Run("merge", source, "--db", target);
        Assert.True(rerun.ExitCode == 0, rerun.Error);
        using var merged = ResultStore.Open(target);
        Assert.Equal(total, merged.Count());
        Assert.Equal("ok", IntegrityCheck(target));
    }

    private static string IntegrityCheck(string path) => (string)Pragma(path, "integrity_check");

    /// <summary>Rows a reader sees in a store another process is writing; 0 while it has none (or no table yet).</summary>
    private static long RowsSoFar(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        try
        {
            using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM exams;";
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0;
        }
    }

    private static long StoreSchemaVersion(string path) => (long)Pragma(path, "user_version");

    private static object Pragma(string path, string name)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return command.ExecuteScalar()!;
    }
}

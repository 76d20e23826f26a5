using QctPipeline.Store;
using QctPipeline.Tests.Cli;

namespace QctPipeline.Tests.Store;

/// <summary>Workers with their own stores but one shared pseudonym key give a patient one pseudonym.</summary>
public sealed class SharedPseudonymKeyTests
{
    private static readonly byte[] Key = Convert.FromHexString("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");

    [Fact]
    public void Two_workers_stores_with_the_shared_key_give_the_same_pseudonym_and_keep_it()
    {
        using var folder = new TempFolder();

        string worker1, worker2, alone;
        using (var store = ResultStore.Open(folder.File("worker1.sqlite"), Key))
        {
            worker1 = store.Pseudonym("PAT-0001");
        }

        using (var store = ResultStore.Open(folder.File("worker2.sqlite"), Key))
        {
            worker2 = store.Pseudonym("PAT-0001");
        }

        using (var store = ResultStore.Open(folder.File("alone.sqlite"), null))
        {
            alone = store.Pseudonym("PAT-0001");
        }

        using var reopened = ResultStore.Open(folder.File("worker1.sqlite"), null);

        Assert.Equal(worker1, worker2);
        Assert.NotEqual(worker1, alone);
        Assert.Equal(worker1, reopened.Pseudonym("PAT-0001"));
    }

    [Fact]
    public void A_store_with_its_own_key_refuses_a_different_shared_one()
    {
        using var folder = new TempFolder();
        ResultStore.Open(folder.File("results.sqlite"), null).Dispose();

        var error = Assert.Throws<ResultStoreException>(() => ResultStore.Open(folder.File("results.sqlite"), Key));

        Assert.Contains("keeps another pseudonym key than the shared one given", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-hex", "is not hexadecimal")]
    [InlineData("00112233", "at least 32 hex digits")]
    public void A_malformed_shared_key_is_one_line_naming_the_variable(string key, string reason)
    {
        using var folder = new TempFolder();

        var result = QctProcess.Run(new Dictionary<string, string> { ["QCT_PSEUDONYM_KEY"] = key }, "history", "PAT-1", "--db", folder.File("results.sqlite"));

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("$QCT_PSEUDONYM_KEY", result.Error, StringComparison.Ordinal);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Trim().Split('\n'));
    }
}

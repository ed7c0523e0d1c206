using System.Numerics;
using CnnInterpret.Core.Models.Checkpoints;

namespace CnnInterpret.Tests.Checkpoints;

/// <summary>How the unpickler reads Python's integers.</summary>
public sealed class SafeUnpicklerTests
{
    /// <summary>
    /// Python pickles an int beyond 32 bits as LONG1 (protocol 2; the bytes are pickle.dumps(value, protocol=2)). One
    /// that fits 64 bits must come back a long like the BININT opcodes' (storage sizes and offsets are checked with
    /// 'is long'); only a wider one stays a BigInteger.
    /// </summary>
    [Theory]
    [InlineData("80028a060000000000012e", 1099511627776L)]
    [InlineData("80028a060000000000ff2e", -1099511627776L)]
    [InlineData("80028a08ffffffffffffff7f2e", long.MaxValue)]
    public void Long1_that_fits_64_bits_is_a_long(string pickle, long expected) =>
        Assert.Equal(expected, Assert.IsType<long>(Load(pickle)));

    [Fact]
    public void Long1_wider_than_64_bits_is_a_BigInteger() =>
        Assert.Equal(BigInteger.Pow(2, 63), Assert.IsType<BigInteger>(Load("80028a090000000000000080002e")));

    private static object? Load(string hex) =>
        new SafeUnpickler(Convert.FromHexString(hex), 0, new HashSet<string>(), _ => null, _ => null).Load();
}

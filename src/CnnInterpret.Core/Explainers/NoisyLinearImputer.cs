namespace CnnInterpret.Core.Explainers;

/// <summary>
/// ROAD's noisy linear imputation (Rong et al., "A Consistent and Efficient Evaluation Strategy for Attribution
/// Methods", ICML 2022, arXiv:2202.00449, §4; as pytorch-grad-cam's <c>NoisyLinearImputer</c>, taken from the authors'
/// <c>imputations.py</c>): every removed pixel becomes the weighted mean of its eight neighbours (1/6 for the four
/// beside it, 1/12 for the four diagonal; neighbours outside the image left out), known neighbours at their values
/// and removed ones at their own imputed values, plus Gaussian noise (σ = 0.01 in the model's normalised units) so the
/// model cannot read the removal pattern from the smoothness. That is one sparse linear system per image (a weighted
/// graph Laplacian over the removed pixels, one right-hand side per channel), which pytorch-grad-cam hands to SciPy's
/// <c>spsolve</c>; here it is solved by conjugate gradients with a Jacobi preconditioner, to a relative residual of
/// 1e-8, in float64. Deviation: a group of removed pixels with no known pixel next to any of them (all of an image
/// removed) has no unique solution (SciPy returns NaNs); here it becomes 0 (plus noise), the dataset's mean colour for
/// ImageNet-normalised models.
/// </summary>
public static class NoisyLinearImputer
{
    public const double DefaultNoise = 0.01;

    private static readonly (int Dy, int Dx, double Weight)[] Neighbours =
        [(1, 1, 1.0 / 12), (0, 1, 1.0 / 6), (-1, 1, 1.0 / 12), (1, -1, 1.0 / 12), (0, -1, 1.0 / 6), (-1, -1, 1.0 / 12), (1, 0, 1.0 / 6), (-1, 0, 1.0 / 6)];

    /// <summary>
    /// <paramref name="image"/> [C,H,W] with the pixels where <paramref name="keep"/> [H,W] is false imputed; noise from
    /// <paramref name="random"/> (<paramref name="noise"/> 0: none, the plain linear imputation).
    /// </summary>
    public static float[] Impute(float[] image, int channels, int height, int width, bool[] keep, double noise, Random random)
    {
        var plane = height * width;
        if (image.Length != channels * plane || keep.Length != plane)
            throw new ArgumentException($"The image holds {image.Length} values and the mask {keep.Length}; expected {channels}×{height}×{width} and {height}×{width}.");
        // Number the removed pixels; for each, its removed neighbours (with their weights) and the total weight of its
        // neighbours inside the image (the diagonal).
        var index = new int[plane];
        var removed = new List<int>();
        for (var p = 0; p < plane; p++) index[p] = keep[p] ? -1 : AddIndex(removed, p);
        var n = removed.Count;
        var result = (float[])image.Clone();
        if (n == 0) return result;
        var diagonal = new double[n];
        var rowStart = new int[n + 1];
        var columns = new List<int>(8 * n);
        var weights = new List<double>(8 * n);
        var rhs = new double[channels * n];
        for (var i = 0; i < n; i++)
        {
            int y = removed[i] / width, x = removed[i] % width;
            foreach (var (dy, dx, weight) in Neighbours)
            {
                int ny = y + dy, nx = x + dx;
                if (ny < 0 || nx < 0 || ny >= height || nx >= width) continue;
                diagonal[i] += weight;
                var q = ny * width + nx;
                if (index[q] >= 0)
                {
                    columns.Add(index[q]);
                    weights.Add(weight);
                }
                else
                    for (var c = 0; c < channels; c++) rhs[c * n + i] += weight * image[c * plane + q];
            }
            rowStart[i + 1] = columns.Count;
        }
        var system = new LaplacianSystem(diagonal, rowStart, columns.ToArray(), weights.ToArray());
        for (var c = 0; c < channels; c++)
        {
            var solution = system.Solve(rhs.AsSpan(c * n, n));
            for (var i = 0; i < n; i++)
                result[c * plane + removed[i]] = (float)(solution[i] + (noise > 0 ? noise * Gaussian(random) : 0));
        }
        return result;
    }

    private static int AddIndex(List<int> list, int value)
    {
        list.Add(value);
        return list.Count - 1;
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>(D − W) x = b: D the neighbour weights' sums, W the weights between removed pixels. Symmetric, and positive definite where every group of removed pixels touches a known one.</summary>
    private sealed class LaplacianSystem(double[] diagonal, int[] rowStart, int[] columns, double[] weights)
    {
        private const double Tolerance = 1e-8;

        private void Multiply(ReadOnlySpan<double> x, Span<double> y)
        {
            for (var i = 0; i < diagonal.Length; i++)
            {
                var sum = diagonal[i] * x[i];
                for (var k = rowStart[i]; k < rowStart[i + 1]; k++) sum -= weights[k] * x[columns[k]];
                y[i] = sum;
            }
        }

        /// <summary>Preconditioned conjugate gradients from x = 0 (a group with no known neighbour has b = 0 there and stays 0).</summary>
        public double[] Solve(ReadOnlySpan<double> b)
        {
            var n = diagonal.Length;
            var x = new double[n];
            var r = b.ToArray();
            var z = new double[n];
            var p = new double[n];
            var q = new double[n];
            var bNorm = Math.Sqrt(Dot(r, r));
            if (bNorm == 0) return x;
            for (var i = 0; i < n; i++) z[i] = r[i] / diagonal[i];
            z.CopyTo(p, 0);
            var rz = Dot(r, z);
            for (var iteration = 0; iteration < 10 * n + 100; iteration++)
            {
                Multiply(p, q);
                var alpha = rz / Dot(p, q);
                for (var i = 0; i < n; i++)
                {
                    x[i] += alpha * p[i];
                    r[i] -= alpha * q[i];
                }
                if (Math.Sqrt(Dot(r, r)) <= Tolerance * bNorm) break;
                for (var i = 0; i < n; i++) z[i] = r[i] / diagonal[i];
                var next = Dot(r, z);
                var beta = next / rz;
                rz = next;
                for (var i = 0; i < n; i++) p[i] = z[i] + beta * p[i];
            }
            return x;
        }

        private static double Dot(double[] a, double[] b)
        {
            double sum = 0;
            for (var i = 0; i < a.Length; i++) sum += a[i] * b[i];
            return sum;
        }
    }
}

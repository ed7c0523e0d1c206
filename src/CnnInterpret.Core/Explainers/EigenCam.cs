using static TorchSharp.torch;

namespace CnnInterpret.Core.Explainers;

/// <summary>
/// Eigen-CAM: Muhammad and Yeasin, "Eigen-CAM: Class Activation Map using Principal Components", IJCNN 2020
/// (arXiv:2008.00299). No gradients and no target: the layer's activations as a matrix of positions × channels,
/// centred per channel, projected on their first principal component (the first right-singular vector), then ReLU.
/// As pytorch-grad-cam's <c>eigen_cam.py</c> (<c>get_2d_projection</c>: NaNs become 0, centring, SVD).
/// Deviation: an SVD gives the component up to its sign, and pytorch-grad-cam keeps whichever sign LAPACK returns, so
/// its map can come out as the complement of the object. Here the sign is fixed: the component's loadings sum to
/// ≥ 0, which is the same as the map correlating positively with the (centred) sum of the channels: the map is
/// high where the layer as a whole is more active. The SVD runs in float64.
/// </summary>
public sealed class EigenCam : BaseCam
{
    public override ExplainerInfo Info { get; } = CamInfo("eigen-cam", "Eigen-CAM",
        "Muhammad & Yeasin, Eigen-CAM, IJCNN 2020 (arXiv:2008.00299); as pytorch-grad-cam's EigenCAM, with a fixed sign");

    protected override bool UsesGradients => false;

    protected override (Tensor Map, Tensor? Weights) Combine(Tensor activations, Tensor gradients, ExplainContext? context)
    {
        var (channels, height, width) = (activations.shape[1], activations.shape[2], activations.shape[3]);
        var x = activations[0].reshape(channels, height * width).t().to_type(ScalarType.Float64);
        x = nan_to_num(x, 0);
        x -= x.mean([0], keepdim: true);
        var (_, _, vh) = linalg.svd(x, fullMatrices: false);
        var component = vh[0];
        if (component.sum().item<double>() < 0) component = -component;
        var projection = x.matmul(component).reshape(1, height, width);
        return (projection.to_type(ScalarType.Float32), null);
    }
}

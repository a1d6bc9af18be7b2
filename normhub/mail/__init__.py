"""Mail: building and sending every email NormHub sends."""

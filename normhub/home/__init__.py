"""The home page: what NormHub is, for visitors; what needs them, for members."""

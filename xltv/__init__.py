"""Import test results into an XL TestView server from CI."""

__version__ = "0.1.0"

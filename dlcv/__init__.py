"""The course library: data, devices and seeds. Students import it and never edit it."""

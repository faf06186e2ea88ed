"""radar: joins meldingen of all regions, the VT Register and the RvdK feed per person."""

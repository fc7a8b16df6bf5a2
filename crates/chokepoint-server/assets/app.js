// The dashboard's script (written next).

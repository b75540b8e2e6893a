
BPlus214_Output_0J(sî(Åÿ€ÿÄKÄ |VE‰&/Å›‹Eg¯2ÅcùÿB­dDR?D

BPlus214_Output_0J(MÈE¡QšÅåŞšDÖr9Å÷ÖÄõ!ÄÈ€WDÍjÅò»iÄæ^œÃ